// An OpenTelemetry context for the exemplar tests of both adapters: the spans a tracer's HTTP instrumentation
// would make, with ids the test chooses.
import type { IncomingMessage, Server } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll } from 'vitest';

export const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';
export const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
export const SPAN_A = 'b7ad6b7169203331';
export const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
export const SPAN_B = '00f067aa0ba902b7';

/** Async-hooks context propagation for the test file (a tracer's SDK sets it up). */
export function useAsyncContext(): void {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => {
    context.disable();
  });
}

/** A sampled span with these ids. */
export const spanOf = (traceId: string, spanId: string) => trace.wrapSpanContext({ traceId, spanId, traceFlags: 1 });

/**
 * The server's 'request' event runs in the context of the span named by the request's `x-span` header
 * (`traceId-spanId`), as OpenTelemetry's HTTP instrumentation runs it in the server span's.
 */
export function traceRequests(server: Server): void {
  const emit = server.emit as (this: Server, event: string, ...args: unknown[]) => boolean;
  server.emit = function tracedEmit(this: Server, event: string, ...args: unknown[]) {
    const header = event === 'request' ? (args[0] as IncomingMessage).headers['x-span'] : undefined;
    if (typeof header !== 'string') return emit.call(this, event, ...args);
    const [traceId = '', spanId = ''] = header.split('-');
    return context.with(trace.setSpan(context.active(), spanOf(traceId, spanId)), () => emit.call(this, event, ...args));
  } as Server['emit'];
}
