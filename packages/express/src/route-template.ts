import type { Request } from 'express';

/*
 * Route labels for Express 4 and 5, read from the router tree the app already has.
 *
 * The full template of a Route is the chain of router mounts above it plus `route.path`. Express
 * does not record that chain on the request, and patching Router#use would miss routers built at
 * import time, before our middleware exists. So the first time a Route object is seen, the whole
 * router tree of `req.app` is walked once and every Route in it is indexed; afterwards a request
 * costs one WeakMap lookup. Only a Route reachable through several mount chains pays more: the
 * chain whose mount layers, matched with the layers' own compiled matchers, consume `req.baseUrl`.
 *
 * Rendering choices (stable, bounded strings):
 * - A RegExp path renders as its literal, `/^\/v\d+/i` (RegExp#toString), as users wrote it.
 * - A route registered with an array of paths renders its paths joined with `,` (`/a,/b`): which
 *   one matched is not kept by Express 4 and could only be found by matching per request.
 * - A mount with an array of paths is one chain per path, so each request gets the prefix it used.
 * - Mount paths lose trailing slashes (Express matches them without); a route path `/` under a
 *   prefix renders as the bare prefix (`/api`, not `/api/`).
 */

/** Length of `rest` a mount layer consumes, or -1 when it does not match. */
type Consume = (rest: string) => number;

interface Step {
  readonly segment: string;
  /** undefined when the layer's matcher could not be found: the chain then cannot be picked by baseUrl. */
  readonly consume: Consume | undefined;
}

interface Chain {
  readonly template: string;
  readonly steps: readonly Step[];
}

interface Entry {
  readonly app: unknown;
  /** The template when there is one chain; the first chain's when there are several. */
  readonly template: string;
  /** Set only when the route is reachable through chains with different templates. */
  readonly chains: readonly Chain[] | undefined;
  /** req.method -> final handler name ('' when anonymous). */
  readonly names: Map<string, string>;
  next: Entry | undefined;
}

interface LayerLike {
  route?: unknown;
  handle?: unknown;
  name?: unknown;
  method?: unknown;
  // Express 5 (router 2.x)
  rawPath?: unknown;
  matchers?: unknown;
  slash?: unknown;
  // Express 4
  regexp?: unknown;
  keys?: unknown;
}

interface RouteLike {
  path?: unknown;
  stack: unknown[];
  methods?: Record<string, unknown>;
}

interface AppLike {
  _router?: unknown;
  router?: unknown;
  mountpath?: unknown;
  parent?: unknown;
}

interface KeyLike {
  name?: unknown;
}

// Beyond these, a tree is pathological (or cyclic); what was found so far is kept.
const MAX_DEPTH = 32;
const MAX_CHAINS = 16;
const MAX_METHODS = 64;

/**
 * The entries of a route object (one per app it is reached from), kept on the route itself: a property read
 * on every request is cheaper than a WeakMap lookup, and the route object lives as long as its app.
 */
const kEntries = Symbol('prom-http.route-entries');
type WithEntries = { [kEntries]?: Entry };
let walks = 0;

/**
 * Reads a property of Express's `req` without V8's property caches. Express gives every request the app's
 * request prototype, and the properties its router adds after that give each request an object shape of its
 * own, so at the finish a plain `req.route` misses the caches and takes V8's slow path: `bench/express-shapes.mjs`
 * measured 370-830 ns a read that way against 50-380 ns through `Reflect.get`, which skips the caches.
 */
function readReq(req: Request, name: 'route' | 'app' | 'baseUrl' | 'method'): unknown {
  return Reflect.get(req, name);
}

/** Full route template of the request, e.g. '/api/users/:uid/posts/:pid', or undefined when no route matched. */
export function routeTemplate(req: Request): string | undefined {
  try {
    const entry = entryFor(req);
    return entry === undefined ? undefined : templateOf(entry, req);
  } catch {
    return undefined;
  }
}

/** Name of the route's final handler function for req.method; the template when that handler is anonymous; undefined when no route matched. */
export function endpointName(req: Request): string | undefined {
  try {
    const entry = entryFor(req);
    if (entry === undefined) return undefined;
    const method = readReq(req, 'method') as string;
    let name = entry.names.get(method);
    if (name === undefined) {
      name = handlerName(readReq(req, 'route') as RouteLike, method);
      if (entry.names.size < MAX_METHODS) entry.names.set(method, name);
    }
    return name !== '' ? name : templateOf(entry, req);
  } catch {
    return undefined;
  }
}

/** For tests only (not exported from the package index): how many times a router tree was walked. */
export function walkCount(): number {
  return walks;
}

function entryFor(req: Request): Entry | undefined {
  const route = readReq(req, 'route');
  if (!isRoute(route)) return undefined;
  const app = readReq(req, 'app');
  for (let entry = (route as WithEntries)[kEntries]; entry !== undefined; entry = entry.next) {
    if (entry.app === app) return entry;
  }
  indexApp(app);
  for (let entry = (route as WithEntries)[kEntries]; entry !== undefined; entry = entry.next) {
    if (entry.app === app) return entry;
  }
  // Not reachable from req.app: a router called from a wrapper function, or a sub-app's route that
  // called next() into the parent. The prefix is unknown; the route's own path is still bounded.
  const fallback = joinRoute('', renderRoutePath(route.path));
  return setEntry(route, app, fallback, undefined);
}

function templateOf(entry: Entry, req: Request): string {
  const chains = entry.chains;
  if (chains === undefined) return entry.template;
  const baseUrl = readReq(req, 'baseUrl');
  if (typeof baseUrl === 'string') {
    for (const chain of chains) {
      if (consumesAll(chain.steps, baseUrl)) return chain.template;
    }
  }
  // baseUrl is the parent's again when the route called next() out of its router.
  return entry.template;
}

function consumesAll(steps: readonly Step[], baseUrl: string): boolean {
  let rest = baseUrl;
  for (const step of steps) {
    if (step.consume === undefined) return false;
    let n: number;
    try {
      n = step.consume(rest);
    } catch {
      return false;
    }
    if (n < 0) return false;
    if (n > 0) rest = rest.slice(n);
  }
  return rest === '' || rest === '/';
}

function setEntry(route: object, app: unknown, template: string, chains: readonly Chain[] | undefined): Entry {
  let head = (route as WithEntries)[kEntries];
  // Drop the previous entry of this app: a re-walk may have found more chains.
  if (head !== undefined && head.app === app) head = head.next;
  else {
    for (let prev = head; prev?.next !== undefined; prev = prev.next) {
      if (prev.next.app === app) {
        prev.next = prev.next.next;
        break;
      }
    }
  }
  const entry: Entry = { app, template, chains, names: new Map(), next: head };
  (route as WithEntries)[kEntries] = entry;
  return entry;
}

/** Walks the app's router tree once and (re)indexes every Route in it. */
function indexApp(app: unknown): void {
  const router = appRouter(app);
  if (router === undefined) return;
  walks++;
  const found = new Map<object, Step[][]>();
  collect(router, [], found, new Set());
  if (found.size === 0) return;
  const prefixes = appPrefixes(app, 0);
  for (const [route, inAppChains] of found) {
    const path = renderRoutePath((route as RouteLike).path);
    const chains: Chain[] = [];
    const seen = new Set<string>();
    for (const prefix of prefixes) {
      for (const inApp of inAppChains) {
        if (chains.length >= MAX_CHAINS) break;
        const steps = prefix.length === 0 ? inApp : [...prefix, ...inApp];
        let base = '';
        for (const step of steps) base += step.segment;
        const template = joinRoute(base, path);
        if (seen.has(template)) continue;
        seen.add(template);
        chains.push({ template, steps });
      }
    }
    const first = chains[0];
    if (first === undefined) continue;
    setEntry(route, app, first.template, chains.length > 1 ? chains : undefined);
  }
}

function collect(router: { stack: unknown[] }, prefix: Step[], found: Map<object, Step[][]>, onPath: Set<object>): void {
  if (onPath.has(router) || onPath.size >= MAX_DEPTH) return;
  onPath.add(router);
  for (const item of router.stack) {
    if (item === null || typeof item !== 'object') continue;
    const layer = item as LayerLike;
    if (isRoute(layer.route)) {
      const chains = found.get(layer.route);
      if (chains === undefined) found.set(layer.route, [prefix]);
      else if (chains.length < MAX_CHAINS) chains.push(prefix);
      continue;
    }
    const child = layer.handle;
    if (!isRouter(child)) continue;
    for (const step of layerSteps(layer)) {
      collect(child, step === undefined ? prefix : [...prefix, step], found, onPath);
    }
  }
  onPath.delete(router);
}

/** One step per path of a mount layer; undefined for a root mount, which adds nothing. */
function layerSteps(layer: LayerLike): (Step | undefined)[] {
  if (Array.isArray(layer.matchers)) return express5Steps(layer, layer.matchers);
  if (layer.regexp instanceof RegExp) return express4Steps(layer, layer.regexp);
  return [undefined];
}

function express5Steps(layer: LayerLike, matchers: unknown[]): (Step | undefined)[] {
  if (layer.slash === true) return [undefined];
  const paths = Array.isArray(layer.rawPath) ? (layer.rawPath as unknown[]) : [layer.rawPath];
  return paths.map(function express5Step(path, i) {
    const segment = renderMountPath(path);
    if (segment === '') return undefined;
    const matcher = matchers[i];
    return { segment, consume: typeof matcher === 'function' ? express5Consume(matcher as Express5Matcher) : undefined };
  });
}

type Express5Matcher = (path: string) => { path?: unknown } | false;

function express5Consume(matcher: Express5Matcher): Consume {
  return function consumeExpress5(rest) {
    const match = matcher(rest);
    return match !== false && typeof match.path === 'string' ? match.path.length : -1;
  };
}

/*
 * Express 4 (path-to-regexp 0.1.x) keeps only the compiled RegExp and its keys. A string mount path
 * compiles deterministically to `^` + body + `\/?(?=\/|$)`, the body being the path with `/` and `.`
 * escaped, `*` as `(.*)` and each `:name` as a `(?:...)` group whose name is in `keys`; an array of
 * paths is those sources joined by `|`. That is reversed here, once per layer per walk. Anything
 * else (a RegExp mount) renders as the RegExp.
 */
const MOUNT_TAIL = '\\/?(?=\\/|$)';

function express4Steps(layer: LayerLike, regexp: RegExp): (Step | undefined)[] {
  if ((regexp as { fast_slash?: unknown }).fast_slash === true) return [undefined];
  const keys: unknown[] = Array.isArray(layer.keys) ? layer.keys : [];
  const pieces = splitAlternatives(regexp.source);
  const segments: string[] = [];
  let k = 0;
  for (const piece of pieces) {
    const segment = parseExpress4Piece(piece, keys, k);
    if (segment === undefined) {
      return [{ segment: String(regexp), consume: regexpConsume(regexp) }];
    }
    segments.push(segment);
    k += countGroups(piece);
  }
  if (segments.length === 1) {
    const segment = segments[0] ?? '';
    return [segment === '' ? undefined : { segment, consume: regexpConsume(regexp) }];
  }
  return segments.map(function express4Step(segment, i) {
    return segment === '' ? undefined : { segment, consume: regexpConsume(new RegExp(pieces[i] ?? '', regexp.flags)) };
  });
}

function regexpConsume(regexp: RegExp): Consume {
  return function consumeRegExp(rest) {
    const match = regexp.exec(rest);
    return match !== null && match.index === 0 ? match[0].length : -1;
  };
}

function parseExpress4Piece(piece: string, keys: unknown[], firstKey: number): string | undefined {
  if (!piece.startsWith('^') || !piece.endsWith(MOUNT_TAIL)) return undefined;
  const end = piece.length - MOUNT_TAIL.length;
  let out = '';
  let k = firstKey;
  let i = 1;
  while (i < end) {
    const c = piece[i];
    if (c === '\\') {
      const escaped = piece[i + 1] ?? '';
      out += escaped === '/' || escaped === '.' ? escaped : c + escaped;
      i += 2;
    } else if (c === '(' && piece.startsWith('(?:', i)) {
      const param = parseExpress4Param(piece, i, keys[k]);
      if (param === undefined) {
        // `/(` in a path string compiles to `/(?:`
        out += '(';
        i += 3;
      } else {
        out += param.text;
        k += param.groups;
        i = param.next;
      }
    } else if (c === '(' && piece[i + 1] !== '?') {
      k++;
      if (piece.startsWith('(.*)', i)) {
        out += '*';
        i += 4;
      } else {
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function parseExpress4Param(piece: string, start: number, key: unknown): { text: string; groups: number; next: number } | undefined {
  const name = key !== null && typeof key === 'object' ? (key as KeyLike).name : undefined;
  if (typeof name !== 'string') return undefined;
  let p = start + 3;
  const format = piece.startsWith('\\.', p);
  if (format) p += 2;
  const slash = piece.startsWith('\\/', p);
  if (slash) p += 2;
  if (piece[p] !== '(' || piece[p + 1] === '?') return undefined;
  const captureEnd = closingParen(piece, p);
  if (captureEnd < 0) return undefined;
  const capture = piece.slice(p, captureEnd).replaceAll('\\/', '/');
  let groups = countGroups(capture);
  let q = captureEnd;
  const starTail = STAR_TAILS.find((tail) => tail.format === format && piece.startsWith(tail.source, q));
  const star = starTail !== undefined;
  if (star) {
    groups++;
    q += starTail.source.length;
  }
  if (piece[q] !== ')') return undefined;
  q++;
  const optional = piece[q] === '?';
  if (optional) q++;
  const text =
    (slash ? '/' : '') +
    (format ? '.' : '') +
    ':' +
    name +
    (isDefaultCapture(capture) ? '' : capture) +
    (star ? '*' : '') +
    (optional ? '?' : '');
  return { text, groups, next: q };
}

// `:name*`; V8 leaves `/` unescaped inside a class, but the tail is accepted either way.
const STAR_TAILS = [
  { format: false, source: '((?:[/].+?)?)' },
  { format: false, source: '((?:[\\/].+?)?)' },
  { format: true, source: '((?:[/\\.].+?)?)' },
  { format: true, source: '((?:[\\/\\.].+?)?)' },
];

function isDefaultCapture(capture: string): boolean {
  return (
    capture === '([^/]+?)' ||
    capture === '([^/\\.]+?)' ||
    // after literal text (`:from-:to`), path-to-regexp 0.1 stops the param at that text
    (capture.startsWith('((?:(?!/|') && capture.endsWith(').)+?)'))
  );
}

/** Index just past the parenthesis that closes the one at `open`, or -1. */
function closingParen(source: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** Capturing groups the way path-to-regexp 0.1 counts them when it assigns keys. */
function countGroups(source: string): number {
  let n = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '(' && (source[i + 1] !== '?' || (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!'))) n++;
  }
  return n;
}

/** The `|`-separated alternatives of a RegExp source at depth 0. */
function splitAlternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let from = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(from, i));
      from = i + 1;
    }
  }
  out.push(source.slice(from));
  return out;
}

/** Mount-path alternatives of the app's chain of `app.use(path, subApp)` mounts, outermost first. */
function appPrefixes(app: unknown, depth: number): Step[][] {
  if (app === null || (typeof app !== 'function' && typeof app !== 'object') || depth >= MAX_DEPTH) return [[]];
  const { parent, mountpath } = app as AppLike;
  if (parent === undefined || parent === null || mountpath === undefined) return [[]];
  const paths = Array.isArray(mountpath) ? (mountpath.flat(Infinity) as unknown[]) : [mountpath];
  const own = mountedAppSteps(parent, mountpath, paths);
  const out: Step[][] = [];
  for (const outer of appPrefixes(parent, depth + 1)) {
    for (const step of own) {
      if (out.length < MAX_CHAINS) out.push(step === undefined ? outer : [...outer, step]);
    }
  }
  return out;
}

/**
 * Steps for a sub-app's mount paths. The `mounted_app` layer that app.use() adds to the parent does
 * not point to the sub-app, but any such layer with the same path matches the same URLs, so its
 * matchers serve to pick a chain by baseUrl.
 */
function mountedAppSteps(parent: unknown, mountpath: unknown, paths: unknown[]): (Step | undefined)[] {
  const layer = findMountedAppLayer(parent, mountpath);
  const candidates = layer === undefined ? [] : layerSteps(layer).filter((step) => step !== undefined);
  const consumers = candidates.length === paths.filter((path) => renderMountPath(path) !== '').length ? candidates : [];
  let c = 0;
  return paths.map(function mountedAppStep(path) {
    const segment = renderMountPath(path);
    if (segment === '') return undefined;
    return { segment, consume: consumers[c++]?.consume };
  });
}

function findMountedAppLayer(parent: unknown, mountpath: unknown): LayerLike | undefined {
  const router = appRouter(parent);
  if (router === undefined) return undefined;
  const wanted = Array.isArray(mountpath)
    ? (mountpath.flat(Infinity) as unknown[]).map(renderMountPath).join(',')
    : renderMountPath(mountpath);
  for (const item of router.stack) {
    if (item === null || typeof item !== 'object') continue;
    const layer = item as LayerLike;
    if ((layer.handle as { name?: unknown } | undefined)?.name !== 'mounted_app') continue;
    if (Array.isArray(layer.matchers)) {
      const raw = Array.isArray(layer.rawPath) ? (layer.rawPath as unknown[]) : [layer.rawPath];
      if (raw.map(renderMountPath).join(',') === wanted) return layer;
    } else if (layer.regexp instanceof RegExp) {
      if (layer.regexp === mountpath) return layer;
      const rendered = layerSteps(layer).map((step) => (step === undefined ? '' : step.segment));
      if (rendered.join(',') === wanted) return layer;
    }
  }
  return undefined;
}

function appRouter(app: unknown): { stack: unknown[] } | undefined {
  if (app === null || (typeof app !== 'function' && typeof app !== 'object')) return undefined;
  const express4 = (app as AppLike)._router;
  if (isRouter(express4)) return express4;
  try {
    // Express 4 defines `app.router` as a getter that throws.
    const express5 = (app as AppLike).router;
    return isRouter(express5) ? express5 : undefined;
  } catch {
    return undefined;
  }
}

function isRouter(value: unknown): value is { stack: unknown[] } {
  return typeof value === 'function' && Array.isArray((value as { stack?: unknown }).stack);
}

function isRoute(value: unknown): value is RouteLike {
  return value !== null && typeof value === 'object' && Array.isArray((value as { stack?: unknown }).stack);
}

function renderMountPath(path: unknown): string {
  if (typeof path !== 'string') return String(path);
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  if (end === 0) return '';
  const trimmed = path.slice(0, end);
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function renderRoutePath(path: unknown): string {
  if (typeof path === 'string') return path;
  if (Array.isArray(path)) return (path.flat(Infinity) as unknown[]).map(renderRoutePath).join(',');
  return String(path);
}

function joinRoute(prefix: string, path: string): string {
  if (path === '' || path === '/') return prefix === '' ? '/' : prefix;
  if (prefix === '') return path;
  return path.startsWith('/') ? prefix + path : `${prefix}/${path}`;
}

function handlerName(route: RouteLike, method: string): string {
  let wanted = method.toLowerCase();
  if (wanted === 'head' && !route.methods?.head) wanted = 'get';
  const stack = route.stack;
  for (let i = stack.length - 1; i >= 0; i--) {
    const layer = stack[i] as LayerLike | null | undefined;
    if (layer === null || typeof layer !== 'object') continue;
    if (layer.method !== undefined && layer.method !== wanted) continue;
    return typeof layer.handle === 'function' ? layer.handle.name : '';
  }
  return '';
}
