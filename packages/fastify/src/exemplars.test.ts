import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { parseExposition, type Sample } from '../../../test/helpers/exposition.js';
import {
  expectRequestExemplars,
  OPENMETRICS,
  SPAN_A,
  SPAN_B,
  spanOf,
  TRACE_A,
  TRACE_B,
  traceRequests,
  useAsyncContext,
} from '../../../test/helpers/tracing.js';
import fastifyMetrics, { type FastifyMetricsOptions } from './index.js';

useAsyncContext();

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

async function build(options: FastifyMetricsOptions) {
  const app = Fastify();
  apps.push(app);
  await app.register(fastifyMetrics, { registry: new Registry(), collectDefaultMetrics: false, buckets: [0.1, 1], ...options });
  return app;
}

/**
 * Listens on a free port with requests traced (see `traceRequests`); gives the base URL. Not `inject`: it does
 * not run the request in the caller's async context, and a tracer's context comes with the server's event.
 */
async function listen(app: FastifyInstance): Promise<string> {
  traceRequests(app.server);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function scrape(app: FastifyInstance, accept = OPENMETRICS): Promise<{ text: string; samples: (name: string) => Sample[] }> {
  const { body } = await app.inject({ url: '/metrics', headers: { accept } });
  return { text: body, samples: (name) => parseExposition(body).filter((s) => s.name === name) };
}

describe('fastify exemplars', () => {
  it('exemplars: true on a real server: the span active when the request arrived, on its bucket and on http_request_total', async () => {
    const app = await build({ exemplars: true });
    app.get('/users/:id', async () => 'ok');
    app.get('/slow', async () => {
      // A span the handler starts does not change the request's exemplar.
      const child = spanOf(TRACE_B, 'ffffffffffffffff');
      await context.with(trace.setSpan(context.active(), child), () => new Promise((resolve) => setTimeout(resolve, 150)));
      return 'late';
    });
    const base = await listen(app);
    const before = Date.now() / 1000;
    await (await fetch(`${base}/users/1`, { headers: { 'x-span': `${TRACE_A}-${SPAN_A}` } })).text();
    await (await fetch(`${base}/users/2`)).text();
    await (await fetch(`${base}/slow`, { headers: { 'x-span': `${TRACE_B}-${SPAN_B}` } })).text();

    expectRequestExemplars((await scrape(app)).text, (await scrape(app, 'text/plain')).text, before);
  });

  it('exemplars: true with a span a hook before the plugin starts (no span when the request arrived)', async () => {
    const app = Fastify();
    apps.push(app);
    // As a tracing plugin that starts the request's span in its own onRequest hook does.
    app.addHook('onRequest', function startSpan(request, _reply, done) {
      const header = request.headers['x-hook-span'];
      if (typeof header !== 'string') return done();
      const [traceId = '', spanId = ''] = header.split('-');
      context.with(trace.setSpan(context.active(), spanOf(traceId, spanId)), done);
    });
    await app.register(fastifyMetrics, { registry: new Registry(), collectDefaultMetrics: false, exemplars: true });
    app.get('/a', async () => 'ok');
    const base = await listen(app);
    await (await fetch(`${base}/a`, { headers: { 'x-hook-span': `${TRACE_B}-${SPAN_A}` } })).text();
    const { samples } = await scrape(app);
    expect(samples('http_request_total').map((s) => s.exemplar?.labels)).toEqual([{ trace_id: TRACE_B, span_id: SPAN_A }]);
  });

  it('a function reads the exemplar from the request and reply once the response is done', async () => {
    const app = await build({
      exemplars: (request, reply) => {
        const id = request.headers['x-request-id'];
        return typeof id === 'string' ? { request_id: id, status: String(reply.statusCode) } : undefined;
      },
    });
    app.get('/a', async (_request, reply) => reply.code(201).send('ok'));
    await app.inject({ url: '/a', headers: { 'x-request-id': 'r-42' } });
    await app.inject('/a');
    const { samples } = await scrape(app);
    expect(samples('http_request_total').map((s) => [s.value, s.exemplar?.labels])).toEqual([[2, { request_id: 'r-42', status: '201' }]]);
  });

  it('custom counters and histograms take exemplars: the span active when the request reached the handler', async () => {
    const app = await build({});
    const reads = app.metrics.counter('user_reads_total', 'Reads', {
      exemplars: true,
      labels: { user: (request) => (request.params as { id: string }).id },
    });
    const timing = app.metrics.histogram('user_read_seconds', 'Read time', { exemplars: true, buckets: [1] });
    app.get('/users/:id', reads(timing(async () => 'ok')));
    const base = await listen(app);
    await (await fetch(`${base}/users/7`, { headers: { 'x-span': `${TRACE_A}-${SPAN_A}` } })).text();
    const { samples } = await scrape(app);
    expect(samples('user_reads_total').map((s) => [s.labels.user, s.value, s.exemplar?.labels])).toEqual([
      ['7', 1, { trace_id: TRACE_A, span_id: SPAN_A }],
    ]);
    expect(samples('user_read_seconds_bucket').map((s) => [s.labels.le, s.exemplar?.labels.trace_id])).toEqual([
      ['1', TRACE_A],
      ['+Inf', undefined],
    ]);
    expect(samples('http_request_total').every((s) => s.exemplar === undefined)).toBe(true);
  });
});
