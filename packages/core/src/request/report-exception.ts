import type { ServerResponse } from 'node:http';
import { failOpen } from './response-watch.js';

/**
 * Counts `error` as the exception of the request that `response` answers, for errors that a framework layer
 * above Express or Fastify catches and answers itself, so that the adapters never see them: NestJS's exception
 * filters, for one (docs/nestjs.md). Call it before the error response is sent.
 *
 * Every prom-http instance recording that request marks it as failed with `error`, as when a handler throws
 * in Express or Fastify: an error with a 4xx `status` or `statusCode` is the client's fault and not counted
 * in `http_request_exceptions_total`; a request keeps the first error it met. Does nothing for a response
 * no instance records (a WebSocket or RPC context, an excluded path, a response already finished). Never throws.
 *
 * @param response - The Node response (`res` in Express), or an object whose `raw` is it (Fastify's reply).
 * @param error - What was thrown.
 */
export function recordException(response: ServerResponse | { readonly raw: ServerResponse }, error: unknown): void {
  try {
    if (response === null || typeof response !== 'object') return;
    const raw = 'raw' in response && response.raw !== null && typeof response.raw === 'object' ? response.raw : response;
    failOpen(raw as ServerResponse, error);
  } catch {
    // A response made up by a non-HTTP context may throw on any read: an app's error handling must go on.
  }
}
