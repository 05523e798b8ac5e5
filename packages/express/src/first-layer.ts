import type { Application, Request, Response } from 'express';
import { forgetStack } from './error-tap.js';

interface LayerLike {
  handle: unknown;
  slash?: unknown;
}
interface RouterLike {
  stack: LayerLike[];
  handle: (this: RouterLike, req: Request, res: Response, callback: unknown) => unknown;
}

/**
 * When the middleware is the first layer of an Express 5 app's root router, mounted at `/`, nothing in that
 * app runs before it: the router's dispatch can start each request instead, and the layer leaves the stack,
 * so requests no longer pay a router step for it (what `bench/`'s empty-middleware row measures).
 *
 * The stack array is replaced, never edited: the router reads `this.stack` once per request, so requests in
 * flight keep walking the array they started with, meet the old layer there, and find their record already
 * started. Express 4 (whose root stack begins with its own `query` and `expressInit` layers), a middleware
 * mounted under a path, or one with anything before it keeps its layer.
 *
 * `onRequest` (given `app`, which is `req.app` there) returns true when it answered the request itself (a
 * scrape). Returns whether the layer left.
 */
export function moveOutOfRouter(
  app: Application,
  middleware: unknown,
  onRequest: (req: Request, res: Response, app: Application) => boolean,
): boolean {
  // Express 4 keeps its root router at `_router`, and its `app.router` throws.
  if ('_router' in app) return false;
  let router: RouterLike | undefined;
  try {
    router = (app as unknown as { router?: RouterLike }).router;
  } catch {
    return false;
  }
  const first = router?.stack?.[0];
  if (router === undefined || first === undefined || first.handle !== middleware || first.slash !== true) return false;
  if (typeof router.handle !== 'function') return false;
  const dispatch = router.handle;
  router.handle = function promHttpDispatch(this: RouterLike, req: Request, res: Response, callback: unknown) {
    if (onRequest(req, res, app)) return undefined;
    return dispatch.call(this, req, res, callback);
  };
  router.stack = router.stack.slice(1);
  forgetStack();
  return true;
}
