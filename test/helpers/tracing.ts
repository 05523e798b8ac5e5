// An OpenTelemetry context for the exemplar tests of both adapters: the spans a tracer's HTTP instrumentation
// would make, with ids the test chooses.
import type { IncomingMessage, Server } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, expect } from 'vitest';
import { parseExposition } from './exposition.js';

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

/**
 * The exposition of an app that served, with `exemplars: true`, GET /users/1 in span A, /users/2 in no span and
 * /slow (over 0.1 s, a child span started in the handler) in span B, with buckets [0.1, 1]: each request's exemplar
 * on its bucket and on http_request_total, from the span active when it arrived; none in the 0.0.4 text.
 */
export function expectRequestExemplars(openMetrics: string, plain: string, before: number): void {
  const samples = (text: string, name: string) => parseExposition(text).filter((s) => s.name === name);
  expect(samples(openMetrics, 'http_request_total').map((s) => [s.labels.path, s.value, s.exemplar?.labels, s.exemplar?.value])).toEqual([
    ['/users/:id', 2, { trace_id: TRACE_A, span_id: SPAN_A }, 1],
    ['/slow', 1, { trace_id: TRACE_B, span_id: SPAN_B }, 1],
  ]);
  const buckets = samples(openMetrics, 'http_request_duration_seconds_bucket');
  const users = buckets.filter((s) => s.labels.path === '/users/:id');
  expect(users.map((s) => [s.labels.le, s.value, s.exemplar?.labels])).toEqual([
    ['0.1', 2, { trace_id: TRACE_A, span_id: SPAN_A }],
    ['1', 2, undefined],
    ['+Inf', 2, undefined],
  ]);
  const exemplar = users[0]?.exemplar;
  expect(exemplar?.value).toBeLessThanOrEqual(0.1);
  expect(exemplar?.timestamp).toBeGreaterThanOrEqual(before);
  expect(exemplar?.timestamp).toBeLessThanOrEqual(Date.now() / 1000);
  const slow = buckets.filter((s) => s.labels.path === '/slow');
  expect(slow.map((s) => s.exemplar?.labels)).toEqual([undefined, { trace_id: TRACE_B, span_id: SPAN_B }, undefined]);
  expect(slow[1]?.exemplar?.value).toBeGreaterThan(0.1);
  expect(openMetrics.endsWith('# EOF\n')).toBe(true);
  expect(plain).not.toContain(TRACE_A);
  expect(samples(plain, 'http_request_total').map((s) => s.value)).toEqual([2, 1]);
}
