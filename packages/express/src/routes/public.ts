import { match } from 'path-to-regexp';
import { type Consume, MAX_DEPTH, MAX_VISITS, regexpConsume, renderMountPath, type Step } from './paths.js';

/*
 * The public way to read an app's routes (router >= 2.3, which Express 5.3 installs): `router.listRoutes()`
 * lists each router's route paths and mounted routers, and the caller recurses into those. It names paths,
 * not Route objects, so a route is found by its `req.route.path`; when several routes share a path, the
 * request's `req.baseUrl` picks among their mount chains, each mount compiled once with path-to-regexp (the
 * version router uses) the way router compiles a `.use()` path.
 */

interface RouterLike {
  listRoutes: () => unknown;
}

interface ListedRoute {
  path?: unknown;
  methods?: unknown;
  router?: unknown;
}

/** A route path as listed: where it sits, and the methods it answers (uppercase, `*` for `.all()`). */
interface Listed {
  /** The router that lists it: routes of one owner share their Route objects' chains. */
  readonly owner: object;
  readonly steps: readonly Step[];
  readonly methods: readonly unknown[];
}

/** Every listed route path of an app, by the path (a string, or the RegExp object itself). */
export type ListedRoutes = Map<unknown, Listed[]>;

// More routes than this with one path in one app are not told apart by their mount chains.
const MAX_SAME_PATH = 64;

function hasListRoutes(router: unknown): router is RouterLike {
  return (
    (typeof router === 'function' || (typeof router === 'object' && router !== null)) &&
    typeof (router as RouterLike).listRoutes === 'function'
  );
}

/** Express 5's `app.router` (a documented getter; Express 4's throws) when it has `listRoutes()`. */
export function publicRouter(app: unknown): RouterLike | undefined {
  if (app === null || (typeof app !== 'function' && typeof app !== 'object')) return undefined;
  try {
    const router = (app as { router?: unknown }).router;
    return hasListRoutes(router) ? router : undefined;
  } catch {
    return undefined;
  }
}

/** Every route path listed under `router`, recursing through mounted routers. */
export function listAllRoutes(router: RouterLike): ListedRoutes {
  const found: ListedRoutes = new Map();
  visit(router, [], found, new Set(), { visits: MAX_VISITS });
  return found;
}

function visit(router: RouterLike, prefix: readonly Step[], found: ListedRoutes, onPath: Set<object>, budget: { visits: number }): void {
  if (onPath.has(router) || onPath.size >= MAX_DEPTH || budget.visits <= 0) return;
  budget.visits--;
  const items = router.listRoutes();
  if (!Array.isArray(items)) return;
  onPath.add(router);
  for (const item of items) {
    if (item === null || typeof item !== 'object') continue;
    const { path, methods, router: child } = item as ListedRoute;
    if (Array.isArray(methods)) {
      const same = found.get(path);
      const listed: Listed = { owner: router, steps: prefix, methods };
      if (same === undefined) found.set(path, [listed]);
      else if (same.length < MAX_SAME_PATH) same.push(listed);
    } else if (hasListRoutes(child)) {
      const step = mountStep(path);
      visit(child, step === undefined ? prefix : [...prefix, step], found, onPath, budget);
    }
  }
  onPath.delete(router);
}

/** The step a `.use(path, ...)` mount adds; undefined for a root mount. */
export function mountStep(path: unknown): Step | undefined {
  const segment = renderMountPath(path);
  if (segment === '') return undefined;
  return { segment, consume: mountConsume(path) };
}

// Compiled mount matchers by path: a re-walk, or the same path mounted in several places, reuses them.
const consumers = new Map<string, Consume | undefined>();
const MAX_CONSUMERS = 1024;

function mountConsume(path: unknown): Consume | undefined {
  if (path instanceof RegExp) return regexpConsume(path);
  if (typeof path !== 'string') return undefined;
  if (consumers.has(path)) return consumers.get(path);
  let consume: Consume | undefined;
  try {
    // As router's Layer compiles a `.use()` path (trailing slashes loosened); case-insensitive, which only
    // matters to tell apart mounts that differ by case alone. Not decoded: a bad escape never throws.
    const matcher = match(path.replace(/\/+$/, ''), { end: false, trailing: true, sensitive: false, decode: false });
    consume = function consumeMount(rest) {
      const result = matcher(rest);
      return result === false ? -1 : result.path.length;
    };
  } catch {
    consume = undefined;
  }
  if (consumers.size < MAX_CONSUMERS) consumers.set(path, consume);
  return consume;
}
