import { warnOnce } from '@prom-http/core/internal';
import type { Application } from 'express';
import { keepTapLast, type LayerLike, rootStack, tapLayerErrors } from './error-tap.js';
import { publishesErrors, subscribeRouterErrors } from './router-channel.js';

/** How the errors of an app's requests are seen: the router's channel, the legacy tap (its root stack), or not. */
type ErrorSource = 'channel' | 'unseen' | LayerLike[];

const sources = new WeakMap<Application, ErrorSource>();
// The app of the last request and its source: this runs on every request, most processes have one app.
let lastApp: Application | null = null;
let lastSource: ErrorSource = 'unseen';

/** The public hook point where the app's router has one, else Express internals where they are, else none. */
function sourceOf(app: Application): ErrorSource {
  if (publishesErrors(app)) {
    subscribeRouterErrors();
    return 'channel';
  }
  const stack = rootStack(app);
  if (stack !== undefined && tapLayerErrors(stack)) return stack;
  warnOnce(
    'PROMHTTP_EXPRESS_ERRORS_UNSEEN',
    'prom-http cannot see the errors of this Express app: its router publishes no express.router.request ' +
      'diagnostics channel (router >= 2.3) and has no layer error dispatch to observe. Requests are still ' +
      'counted with the status sent, but none as an exception in http_request_exceptions_total. ' +
      'Upgrade to Express 5 with router >= 2.3.',
  );
  return 'unseen';
}

/** Makes the errors of `app`'s requests visible to the records (see `noteError`). */
export function watchErrors(app: Application | undefined): void {
  if (app !== lastApp) {
    // A request that reached a router without an Express app (no `req.app`) has no app to look into.
    if (typeof app !== 'function') return;
    let source = sources.get(app);
    if (source === undefined) {
      source = sourceOf(app);
      sources.set(app, source);
    }
    lastApp = app;
    lastSource = source;
  }
  if (typeof lastSource === 'object') keepTapLast(app as Application, lastSource);
}
