import { type Consume, isRoute, MAX_CHAINS, MAX_DEPTH, MAX_VISITS, regexpConsume, renderMountPath, type Step } from './paths.js';

/*
 * The legacy way to read an app's routes, for routers without `listRoutes()` (Express 4, router < 2.3): the
 * router's stack and each layer's matchers are private there, so they are read only after a feature check
 * (a router function with an array `stack`), and every read tolerates a shape it does not know.
 *
 * The full template of a Route is the chain of router mounts above it plus `route.path`. The walk indexes
 * every Route object with the mount chains it is reachable through; each step keeps the layer's own compiled
 * matcher, which picks the chain a request came through by `req.baseUrl`.
 */

interface LayerLike {
  route?: unknown;
  handle?: unknown;
  // Express 5 (router 2.x)
  rawPath?: unknown;
  matchers?: unknown;
  slash?: unknown;
  // Express 4
  regexp?: unknown;
  keys?: unknown;
}

interface KeyLike {
  name?: unknown;
}

interface AppLike {
  _router?: unknown;
  router?: unknown;
}

export interface LegacyRouter {
  stack: unknown[];
}

/** The app's root router when its stack can be read: Express 4's `app._router`, Express 5's `app.router`. */
export function legacyRouter(app: unknown): LegacyRouter | undefined {
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

/** Every Route reachable from `router`, with the mount chains (outermost first) it is reachable through. */
export function legacyRoutes(router: LegacyRouter): Map<object, Step[][]> {
  const found = new Map<object, Step[][]>();
  collect(router, [], found, new Set(), { visits: MAX_VISITS });
  return found;
}

function collect(
  router: LegacyRouter,
  prefix: Step[],
  found: Map<object, Step[][]>,
  onPath: Set<object>,
  budget: { visits: number },
): void {
  if (onPath.has(router) || onPath.size >= MAX_DEPTH || budget.visits <= 0) return;
  budget.visits--;
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
      collect(child, step === undefined ? prefix : [...prefix, step], found, onPath, budget);
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

/**
 * Steps for a sub-app's mount paths. The `mounted_app` layer that app.use() adds to the parent does
 * not point to the sub-app, but any such layer with the same path matches the same URLs, so its
 * matchers serve to pick a chain by baseUrl.
 */
export function legacyMountSteps(parent: unknown, mountpath: unknown, paths: unknown[]): (Step | undefined)[] {
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
  const router = legacyRouter(parent);
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

function isRouter(value: unknown): value is LegacyRouter {
  return typeof value === 'function' && Array.isArray((value as { stack?: unknown }).stack);
}
