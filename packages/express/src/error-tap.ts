import type { Application, Request, Response } from 'express';
import { noteError } from './request-error.js';

/*
 * Errors where the router publishes none (Express 4, router < 2.3), through Express internals, used only when
 * they are there: Express hands an error (thrown, rejected or passed to `next`) to every later layer's
 * `handle_error` (Express 4) / `handleError` (router 2), so wrapping that one method of the Layer prototype sees
 * every error, at no cost on requests without one. A pass-through error handler last in the root stack makes
 * sure there is a later layer, so errors that end in Express's final handler are seen too.
 */

const kTapped = Symbol.for('prom-http.express.tapped');
const ERROR_METHODS = ['handle_error', 'handleError'] as const;

export interface LayerLike {
  handle: unknown;
}
type ErrorHandle = (this: unknown, error: unknown, req: Request, res: Response, ...rest: unknown[]) => unknown;
type LayerProto = Record<string | symbol, unknown>;

/** The root router's stack: Express 4 keeps that router at `_router`, router 2 (Express 5) at `router`. */
export function rootStack(app: Application): LayerLike[] | undefined {
  const a = app as unknown as { _router?: { stack?: LayerLike[] }; router?: { stack?: LayerLike[] } };
  try {
    return (a._router ?? a.router)?.stack;
  } catch {
    return undefined;
  }
}

/**
 * Wraps the error dispatch of the Layer prototype of `stack`'s layers (once per prototype). False when there
 * is no such method to wrap.
 */
export function tapLayerErrors(stack: LayerLike[]): boolean {
  const first = stack[0];
  if (first === undefined) return false;
  const proto = Object.getPrototypeOf(first) as LayerProto;
  if (proto[kTapped] === true) return true;
  let tapped = false;
  for (const method of ERROR_METHODS) {
    const original = proto[method] as ErrorHandle | undefined;
    if (typeof original !== 'function') continue;
    tapped = true;
    proto[method] = function promHttpHandleError(this: unknown, error: unknown, req: Request, res: Response, ...rest: unknown[]) {
      // `'route'` and `'router'` are routing signals, not errors.
      if (error !== 'route' && error !== 'router') noteError(res, error);
      return original.call(this, error, req, res, ...rest);
    };
  }
  if (tapped) proto[kTapped] = true;
  return tapped;
}

function promHttpErrorTap(error: unknown, _req: Request, _res: Response, next: (error: unknown) => void): void {
  next(error);
}

/**
 * Keeps a pass-through error handler last in `app`'s root stack (`stack`), appending one with `app.use` when
 * routes were added after the last one; a layer is never moved. Only an error request that no route answered
 * ever reaches it.
 */
export function keepTapLast(app: Application, stack: LayerLike[]): void {
  if (stack[stack.length - 1]?.handle !== promHttpErrorTap) app.use(promHttpErrorTap);
}
