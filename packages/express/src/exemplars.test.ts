import { createServer, type Server } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { parseExposition, type Sample } from '../../../test/helpers/exposition.js';
import {
  expectRequestExemplars,
  OPENMETRICS,
  SPAN_A,
  SPAN_B,
  TRACE_A,
  TRACE_B,
  traceRequests,
  useAsyncContext,
} from '../../../test/helpers/tracing.js';
import { type ExpressMetricsOptions, metrics } from './index.js';

useAsyncContext();

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** An app on a Node server whose requests run in the span their `x-span` header names (see `traceRequests`). */
function traced(app: express.Express): Server {
  const server = createServer(app);
  traceRequests(server);
  servers.push(server);
  return server;
}

function build(options: ExpressMetricsOptions) {
  const app = express();
  const m = metrics({ registry: new Registry(), collectDefaultMetrics: false, buckets: [0.1, 1], ...options });
  app.use(m);
  return { app, m, server: traced(app) };
}

async function scrape(server: Server, accept = OPENMETRICS): Promise<{ text: string; samples: (name: string) => Sample[] }> {
  const { text } = await request(server).get('/metrics').set('accept', accept);
  return { text, samples: (name) => parseExposition(text).filter((s) => s.name === name) };
}

describe('express exemplars', () => {
  it('exemplars: true puts the trace and span of the request on its bucket and on http_request_total', async () => {
    const { app, server } = build({ exemplars: true });
    app.get('/users/:id', (_req, res) => {
      res.send('ok');
    });
    // Spans created later (here, a child the handler would start) do not change the request's exemplar.
    app.get('/slow', (_req, res) => {
      const child = trace.wrapSpanContext({ traceId: TRACE_B, spanId: 'ffffffffffffffff', traceFlags: 1 });
      context.with(trace.setSpan(context.active(), child), () => setTimeout(() => res.send('late'), 150));
    });
    const before = Date.now() / 1000;
    await request(server).get('/users/1').set('x-span', `${TRACE_A}-${SPAN_A}`);
    await request(server).get('/users/2');
    await request(server).get('/slow').set('x-span', `${TRACE_B}-${SPAN_B}`);

    expectRequestExemplars((await scrape(server)).text, (await scrape(server, 'text/plain')).text, before);
  });

  it('a function reads the exemplar from the request once the response is done', async () => {
    const { app, server } = build({
      exemplars: (req, res) => {
        const id = req.get('x-request-id');
        return id === undefined ? undefined : { request_id: id, status: String(res.statusCode) };
      },
    });
    app.get('/a', (_req, res) => {
      res.status(201).send('ok');
    });
    await request(server).get('/a').set('x-request-id', 'r-42');
    await request(server).get('/a');
    const { samples } = await scrape(server);
    expect(samples('http_request_total').map((s) => [s.value, s.exemplar?.labels])).toEqual([[2, { request_id: 'r-42', status: '201' }]]);
  });

  it('custom counters and histograms take exemplars: the span active when the request entered the wrapper', async () => {
    const { app, m, server } = build({});
    const reads = m.counter('user_reads_total', 'Reads', { exemplars: true, labels: { user: (req) => req.params.id } });
    const timing = m.histogram('user_read_seconds', 'Read time', { exemplars: true, buckets: [1] });
    app.get('/users/:id', reads, timing, (_req, res) => {
      res.send('ok');
    });
    await request(server).get('/users/7').set('x-span', `${TRACE_A}-${SPAN_A}`);
    const { samples } = await scrape(server);
    expect(samples('user_reads_total').map((s) => [s.labels.user, s.value, s.exemplar?.labels])).toEqual([
      ['7', 1, { trace_id: TRACE_A, span_id: SPAN_A }],
    ]);
    expect(samples('user_read_seconds_bucket').map((s) => [s.labels.le, s.exemplar?.labels.span_id])).toEqual([
      ['1', SPAN_A],
      ['+Inf', undefined],
    ]);
    // Off for the default families: no exemplar there.
    expect(samples('http_request_total').every((s) => s.exemplar === undefined)).toBe(true);
  });
});
