import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, scrape } from './lib/check.mjs';

// What the app's tracing setup (NodeSDK with the HTTP instrumentation) does: each request runs in the context of
// its server span. Here a fixed span, so that the check knows its ids.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const serverSpan = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 });
const traced = (app) => (req, res) => context.with(trace.setSpan(context.active(), serverSpan), () => app(req, res));

const app = express();
app.use(metrics({ exemplars: true }));
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));

createServer(traced(app)).listen(3000);

const [first] = await listening();
await get(`${first.url}/users/1`);
const openMetrics = { accept: 'application/openmetrics-text; version=1.0.0' };
const body = await scrape(`${first.url}/metrics`, openMetrics);
assert.match(
  body,
  /\nhttp_request_total\{method="GET",path="\/users\/:id",status="200"\} 1 # \{trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"\} 1 \d+\.?\d*\n/,
);
assert.doesNotMatch(await scrape(`${first.url}/metrics`), /trace_id/);
done();
