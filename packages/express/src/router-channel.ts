import * as dc from 'node:diagnostics_channel';
import type { Application, Response } from 'express';
import { noteError } from './request-error.js';
import { captureTemplateAtError } from './route-template.js';

/**
 * The `error` event of the `express.router.request` TracingChannel, on which router >= 2.3 (Express 5's router)
 * publishes each error once, at the layer it comes from (thrown, rejected or passed to `next`), whether an
 * error handler takes it or Express's final handler answers it.
 */
const ERROR_CHANNEL = 'tracing:express.router.request:error';

/**
 * Whether `app`'s router publishes its errors: router 2.3 brought `listRoutes()` and the TracingChannel
 * together, so a router with `listRoutes` publishes them (a feature, not a version string, is checked).
 */
export function publishesErrors(app: Application): boolean {
  if (typeof dc.tracingChannel !== 'function') return false;
  let router: { listRoutes?: unknown } | undefined;
  try {
    router = (app as unknown as { router?: { listRoutes?: unknown } }).router;
  } catch {
    // Express 4's `app.router` throws.
    return false;
  }
  return typeof router?.listRoutes === 'function';
}

/** An error in a route: keep the route's template while `req.app` and `req.baseUrl` are still the route's, and note the error. */
function onRouterError(context: unknown): void {
  const { req, res, error } = context as { req?: unknown; res?: Response; error?: unknown };
  captureTemplateAtError(req);
  if (res !== undefined && error !== undefined) noteError(res, error);
}

let subscribed = false;

/**
 * Subscribes to the errors router publishes, once per process for every app and instance. Only `error` is
 * subscribed, the least there is: any subscriber makes router trace every layer call (a context object and a
 * wrapped `next` each), which `bench/instructions.mjs` measures. By name (`dc.subscribe`), which keeps the
 * channel alive.
 */
export function subscribeRouterErrors(): void {
  if (subscribed) return;
  subscribed = true;
  dc.subscribe(ERROR_CHANNEL, onRouterError);
}
