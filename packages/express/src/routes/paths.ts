/*
 * What both ways of reading an app's routes share: the chain of mounts above a route, how a mount consumes
 * `req.baseUrl`, and how templates render.
 *
 * Rendering choices (stable, bounded strings):
 * - A RegExp path renders as its literal, `/^\/v\d+/i` (RegExp#toString), as users wrote it.
 * - A route registered with an array of paths renders its paths joined with `,` (`/a,/b`): which
 *   one matched is not kept by Express 4 and could only be found by matching per request.
 * - A mount with an array of paths is one chain per path, so each request gets the prefix it used.
 * - Mount paths lose trailing slashes (Express matches them without); a route path `/` under a
 *   prefix renders as the bare prefix (`/api`, not `/api/`).
 */

/** Length of `rest` a mount consumes, or -1 when it does not match. */
export type Consume = (rest: string) => number;

export interface Step {
  readonly segment: string;
  /** undefined when the mount's matcher is unknown: a chain with such a step cannot be picked by baseUrl. */
  readonly consume: Consume | undefined;
}

/** `req.route`: Express documents its `path`; `stack` and `methods` are read only for handler names. */
export interface RouteLike {
  path: unknown;
  stack?: unknown;
  methods?: Record<string, unknown>;
}

// Beyond these, a tree is pathological (or cyclic); what was found so far is kept.
export const MAX_DEPTH = 32;
export const MAX_CHAINS = 16;
/** Routers visited in one walk: a tree where routers are mounted into each other many times has exponentially many paths. */
export const MAX_VISITS = 4096;

export function isRoute(value: unknown): value is RouteLike {
  return value !== null && typeof value === 'object' && (value as { path?: unknown }).path !== undefined;
}

/** Whether the steps, in order, consume all of `baseUrl`. */
export function consumesAll(steps: readonly Step[], baseUrl: string): boolean {
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

export function regexpConsume(regexp: RegExp): Consume {
  return function consumeRegExp(rest) {
    const match = regexp.exec(rest);
    return match !== null && match.index === 0 ? match[0].length : -1;
  };
}

export function renderMountPath(path: unknown): string {
  if (typeof path !== 'string') return String(path);
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  if (end === 0) return '';
  const trimmed = path.slice(0, end);
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export function renderRoutePath(path: unknown): string {
  if (typeof path === 'string') return path;
  if (Array.isArray(path)) return (path.flat(Infinity) as unknown[]).map(renderRoutePath).join(',');
  return String(path);
}

function joinRoute(prefix: string, path: string): string {
  if (path === '' || path === '/') return prefix === '' ? '/' : prefix;
  if (prefix === '') return path;
  return path.startsWith('/') ? prefix + path : `${prefix}/${path}`;
}

export function joinSteps(steps: readonly Step[], path: string): string {
  let base = '';
  for (const step of steps) base += step.segment;
  return joinRoute(base, path);
}
