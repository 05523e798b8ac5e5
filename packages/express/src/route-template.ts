import { warnOnce } from '@prom-http/core/internal';
import type { Request } from 'express';
import { legacyMountSteps, legacyRouter, legacyRoutes } from './routes/legacy.js';
import { consumesAll, isRoute, joinSteps, MAX_CHAINS, MAX_DEPTH, type RouteLike, renderRoutePath, type Step } from './routes/paths.js';
import { type ListedRoutes, listAllRoutes, mountStep, publicRouter } from './routes/public.js';

/*
 * Route labels for Express 4 and 5, read from the router tree the app already has.
 *
 * Express does not record on the request the chain of router mounts above `req.route`, and patching
 * Router#use would miss routers built at import time, before our middleware exists. So the first time a
 * Route object is seen, the app's routes are read once and the route's entry (its template, or its mount
 * chains when it is reachable through several) is kept on it; afterwards a request costs one property read.
 * Only a Route reachable through several chains with different templates pays more: the chain whose mounts,
 * matched in turn, consume `req.baseUrl`.
 *
 * The routes are read from public APIs where the router has them (`listRoutes()`, router >= 2.3), else from
 * the router's private stack (Express 4, router < 2.3), else not at all: then a route is labelled by its own
 * `req.route.path` and PROMHTTP_EXPRESS_ROUTES_UNREADABLE is logged once.
 */

interface Chain {
  readonly template: string;
  readonly steps: readonly Step[];
  /** The router that lists the route (public reading), undefined when the Route object itself was found. */
  readonly owner: object | undefined;
  readonly methods: readonly unknown[] | undefined;
}

interface Entry {
  readonly app: unknown;
  /** The template when there is one; the first chain's when there are several. */
  template: string;
  /** Set only while the route is reachable through chains with different templates. */
  chains: readonly Chain[] | undefined;
  /** Whether the chains are the route's own: read from its Route object, or narrowed to the router that lists it. */
  owned: boolean;
  /** Not found in the app's routes: the template is the route's own path. */
  readonly fallback: boolean;
  /** req.method -> final handler name ('' when anonymous). */
  readonly names: Map<string, string>;
  next: Entry | undefined;
}

interface AppLike {
  mountpath?: unknown;
  parent?: unknown;
}

const MAX_METHODS = 64;
/** Chains kept for a route path listed by several routers, before a request shows which router it is. */
const MAX_LISTED_CHAINS = 64;
const ENDPOINT_UNREADABLE =
  "prom-http: this Express version keeps no readable list of a route's handlers, so groupBy 'endpoint' labels requests with the route's template instead of its handler's name. Update Express or @prom-http/express.";
const UNREADABLE =
  'prom-http: the Express router of this app has neither listRoutes() (router >= 2.3) nor a stack this version can read, so the path label is the route path without its router mount prefixes. Update Express or @prom-http/express.';

/**
 * The entries of a route object (one per app it is reached from), kept on the route itself: a property read
 * on every request is cheaper than a WeakMap lookup, and the route object lives as long as its app.
 */
const kEntries = Symbol('prom-http.route-entries');
type WithEntries = { [kEntries]?: Entry };
/** The route paths each app lists (public reading), read again when a route's path is not among them. */
const listed = new WeakMap<object, ListedRoutes>();
let walks = 0;

/**
 * Reads a property of Express's `req` without V8's property caches. Express gives every request the app's
 * request prototype, and the properties its router adds after that give each request an object shape of its
 * own, so at the finish a plain `req.route` misses the caches and takes V8's slow path: `bench/express-shapes.mjs`
 * measured 370-830 ns a read that way against 50-380 ns through `Reflect.get`, which skips the caches.
 */
function readReq(req: object, name: 'route' | 'app' | 'baseUrl' | 'method'): unknown {
  return Reflect.get(req, name);
}

/** Full route template of the request, e.g. '/api/users/:uid/posts/:pid', or undefined when no route matched. */
export function routeTemplate(req: Request): string | undefined {
  try {
    const route = readReq(req, 'route');
    if (!isRoute(route)) return undefined;
    const captured = capturedTemplate(req, route);
    if (captured !== undefined) return captured;
    const entry = entryFor(req, route);
    return entry === undefined ? undefined : templateOf(entry, req);
  } catch {
    return undefined;
  }
}

/** Name of the route's final handler function for req.method; the template when that handler is anonymous; undefined when no route matched. */
export function endpointName(req: Request): string | undefined {
  try {
    const route = readReq(req, 'route');
    if (!isRoute(route)) return undefined;
    const entry = entryFor(req, route);
    if (entry === undefined) return undefined;
    const method = readReq(req, 'method') as string;
    let name = entry.names.get(method);
    if (name === undefined) {
      name = handlerName(route, method);
      if (entry.names.size < MAX_METHODS) entry.names.set(method, name);
    }
    return name !== '' ? name : (capturedTemplate(req, route) ?? templateOf(entry, req));
  } catch {
    return undefined;
  }
}

/** For tests only (not exported from the package index): how many times an app's routes were read. */
export function walkCount(): number {
  return walks;
}

/*
 * A route's error can end in a parent app's error handler. By then Express has put the parent's request
 * prototype back (`req.app` is the parent) and every router has restored `req.baseUrl`, so at the finish the
 * route's sub-app and mount chain are gone. Where router publishes errors (router >= 2.3, the
 * `express.router.request` TracingChannel), the template is taken when the error happens, while `req.app` and
 * `req.baseUrl` are still the route's. Router traces every layer once any of the channel's events has a
 * subscriber; the adapter subscribes to `error` alone (router-channel.ts), which runs this on errors alone. Under callgrind (`bench/instructions.mjs --keep`), router's tracing code took some 580
 * instructions of a 580,000-instruction request to GET /users/:id: about 500 a traced handler.
 */
interface Captured {
  readonly route: object;
  readonly template: string;
}
let captures: WeakMap<object, Captured> | undefined;

function capturedTemplate(req: object, route: object): string | undefined {
  if (captures === undefined) return undefined;
  const captured = captures.get(req);
  return captured !== undefined && captured.route === route ? captured.template : undefined;
}

/** Called for each error router publishes (router-channel.ts subscribes, once for the whole adapter). */
export function captureTemplateAtError(req: unknown): void {
  try {
    if (req === null || typeof req !== 'object') return;
    const route = readReq(req, 'route');
    if (!isRoute(route)) return;
    // The first error in a route is the one raised inside it; a later one (its error handler's) is not.
    if (captures?.get(req)?.route === route) return;
    const entry = entryFor(req, route);
    if (entry === undefined || entry.fallback) return;
    captures ??= new WeakMap();
    captures.set(req, { route, template: templateOf(entry, req) });
  } catch {
    // Never fail the request being traced.
  }
}

function entryFor(req: object, route: RouteLike): Entry | undefined {
  const app = readReq(req, 'app');
  let entry = findEntry(route, app);
  if (entry === undefined) entry = buildEntry(route, app, req);
  if (entry.fallback) return descendantEntry(route, app) ?? entry;
  return entry;
}

function findEntry(route: object, app: unknown): Entry | undefined {
  for (let entry = (route as WithEntries)[kEntries]; entry !== undefined; entry = entry.next) {
    if (entry.app === app) return entry;
  }
  return undefined;
}

/**
 * The entry of a route seen from a sub-app of `app`: a sub-app's route that passed an error (or called
 * next()) to the parent is labelled as inside its sub-app, where it was found before.
 */
function descendantEntry(route: object, app: unknown): Entry | undefined {
  for (let entry = (route as WithEntries)[kEntries]; entry !== undefined; entry = entry.next) {
    if (!entry.fallback && entry.app !== app && isAncestor(app, entry.app)) return entry;
  }
  return undefined;
}

function isAncestor(ancestor: unknown, app: unknown): boolean {
  let current = app;
  for (let depth = 0; depth < MAX_DEPTH && current !== null && typeof current === 'function'; depth++) {
    current = (current as AppLike).parent;
    if (current === ancestor) return true;
  }
  return false;
}

/** Reads the app's routes (once, or again for a route not among them) and keeps the route's entry. */
function buildEntry(route: RouteLike, app: unknown, req: object): Entry {
  const router = publicRouter(app);
  if (router !== undefined) {
    const key = routeKey(route.path);
    let routes = listed.get(app as object);
    let fresh = false;
    if (routes === undefined || !routes.has(key)) {
      routes = walkPublic(app as object, router);
      fresh = true;
    }
    let chains = publicChains(route, app, routes);
    let picked = pickChain(chains, req);
    if (picked === undefined && !fresh) {
      // Listed under another router only: this route may sit under a mount added after the routes were read.
      chains = publicChains(route, app, walkPublic(app as object, router));
      picked = pickChain(chains, req);
    }
    // A route belongs to one router: the request shows which, and other routers' routes of its path are dropped.
    if (picked !== undefined) chains = chains.filter((c) => c.owner === picked.owner);
    if (chains.length > 0) return setEntry(route, app, chains, false);
  } else {
    const stackRouter = legacyRouter(app);
    if (stackRouter !== undefined) {
      walks++;
      indexLegacy(app, legacyRoutes(stackRouter));
      const entry = findEntry(route, app);
      if (entry !== undefined) return entry;
    } else if (isApp(app)) {
      warnOnce('PROMHTTP_EXPRESS_ROUTES_UNREADABLE', UNREADABLE);
    }
  }
  // Not reachable from req.app: a router called from a wrapper function, or a sub-app's route that
  // called next() into the parent. The prefix is unknown; the route's own path is still bounded.
  return setEntry(route, app, [chain(renderRoutePath(route.path), [], undefined, undefined)], true);
}

function walkPublic(app: object, router: Parameters<typeof listAllRoutes>[0]): ListedRoutes {
  walks++;
  const routes = listAllRoutes(router);
  listed.set(app, routes);
  return routes;
}

function isApp(app: unknown): boolean {
  return typeof app === 'function' && typeof (app as { handle?: unknown }).handle === 'function';
}

/** The key `listRoutes()` lists a route under: its path, or the first of its paths. */
function routeKey(path: unknown): unknown {
  return Array.isArray(path) ? path.flat(Infinity)[0] : path;
}

function publicChains(route: RouteLike, app: unknown, routes: ListedRoutes): Chain[] {
  const found = routes.get(routeKey(route.path));
  if (found === undefined) return [];
  const path = renderRoutePath(route.path);
  const chains: Chain[] = [];
  for (const prefix of appPrefixes(app, 0)) {
    for (const item of found) {
      if (chains.length >= MAX_LISTED_CHAINS) return chains;
      const steps = prefix.length === 0 ? item.steps : [...prefix, ...item.steps];
      chains.push(chain(joinSteps(steps, path), steps, item.owner, item.methods));
    }
  }
  return chains;
}

function indexLegacy(app: unknown, found: Map<object, Step[][]>): void {
  if (found.size === 0) return;
  const prefixes = appPrefixes(app, 0);
  for (const [route, inAppChains] of found) {
    const path = renderRoutePath((route as RouteLike).path);
    const chains: Chain[] = [];
    for (const prefix of prefixes) {
      for (const inApp of inAppChains) {
        if (chains.length >= MAX_CHAINS) break;
        const steps = prefix.length === 0 ? inApp : [...prefix, ...inApp];
        chains.push(chain(joinSteps(steps, path), steps, undefined, undefined));
      }
    }
    if (chains.length > 0) setEntry(route, app, chains, false);
  }
}

function chain(template: string, steps: readonly Step[], owner: object | undefined, methods: readonly unknown[] | undefined): Chain {
  return { template, steps, owner, methods };
}

function setEntry(route: object, app: unknown, chains: readonly Chain[], fallback: boolean): Entry {
  let head = (route as WithEntries)[kEntries];
  // Drop the previous entry of this app: the routes read again may have more chains.
  if (head !== undefined && head.app === app) head = head.next;
  else {
    for (let prev = head; prev?.next !== undefined; prev = prev.next) {
      if (prev.next.app === app) {
        prev.next = prev.next.next;
        break;
      }
    }
  }
  const entry: Entry = {
    app,
    template: '',
    chains: undefined,
    owned: true,
    fallback,
    names: new Map(),
    next: head,
  };
  setChains(entry, chains);
  (route as WithEntries)[kEntries] = entry;
  return entry;
}

function setChains(entry: Entry, chains: readonly Chain[]): void {
  const first = chains[0];
  entry.template = first === undefined ? '' : first.template;
  entry.owned = chains.every((c) => c.owner === first?.owner);
  entry.chains = chains.some((c) => c.template !== first?.template) ? chains : undefined;
}

function templateOf(entry: Entry, req: object): string {
  const chains = entry.chains;
  if (chains === undefined) return entry.template;
  const picked = pickChain(chains, req);
  if (picked === undefined) {
    // baseUrl is the parent's again when the route called next() out of its router.
    return entry.template;
  }
  if (!entry.owned)
    setChains(
      entry,
      chains.filter((c) => c.owner === picked.owner),
    );
  return picked.template;
}

/** The chain that consumes the request's baseUrl, preferring one that lists the request's method. */
function pickChain(chains: readonly Chain[], req: object): Chain | undefined {
  const baseUrl = readReq(req, 'baseUrl');
  if (typeof baseUrl !== 'string') return undefined;
  let consuming: Chain | undefined;
  for (const c of chains) {
    if (!consumesAll(c.steps, baseUrl)) continue;
    if (c.methods === undefined) return c;
    const method = readReq(req, 'method');
    if (c.methods.includes(method) || c.methods.includes('*')) return c;
    consuming ??= c;
  }
  return consuming;
}

/** Mount-path alternatives of the app's chain of `app.use(path, subApp)` mounts, outermost first. */
function appPrefixes(app: unknown, depth: number): Step[][] {
  if (app === null || (typeof app !== 'function' && typeof app !== 'object') || depth >= MAX_DEPTH) return [[]];
  const { parent, mountpath } = app as AppLike;
  if (parent === undefined || parent === null || mountpath === undefined) return [[]];
  const paths = Array.isArray(mountpath) ? (mountpath.flat(Infinity) as unknown[]) : [mountpath];
  const own = publicRouter(parent) !== undefined ? paths.map(mountStep) : legacyMountSteps(parent, mountpath, paths);
  const out: Step[][] = [];
  for (const outer of appPrefixes(parent, depth + 1)) {
    for (const step of own) {
      if (out.length < MAX_CHAINS) out.push(step === undefined ? outer : [...outer, step]);
    }
  }
  return out;
}

function handlerName(route: RouteLike, method: string): string {
  let wanted = method.toLowerCase();
  if (wanted === 'head' && !route.methods?.head) wanted = 'get';
  // A Route's handlers are in its `stack`, which no version of Express documents: when it is gone, the label
  // falls back to the template, and the app is told once.
  const stack = route.stack;
  if (!Array.isArray(stack)) {
    warnOnce('PROMHTTP_EXPRESS_ENDPOINT_UNREADABLE', ENDPOINT_UNREADABLE);
    return '';
  }
  for (let i = stack.length - 1; i >= 0; i--) {
    const layer = stack[i] as { method?: unknown; handle?: unknown } | null | undefined;
    if (layer === null || typeof layer !== 'object') continue;
    if (layer.method !== undefined && layer.method !== wanted) continue;
    return typeof layer.handle === 'function' ? layer.handle.name : '';
  }
  return '';
}
