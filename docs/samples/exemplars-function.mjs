import assert from 'node:assert/strict';
import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, scrape } from './lib/check.mjs';

const app = express();

const fromTraceparent = (req) => {
  const [, traceId, spanId] = (req.get('traceparent') ?? '').split('-');
  return traceId ? { trace_id: traceId, span_id: spanId } : undefined;
};
app.use(metrics({ exemplars: fromTraceparent }));

app.get('/', (req, res) => res.send('ok'));
app.listen(3000);

const [{ url }] = await listening();
await get(`${url}/`, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
const body = await scrape(`${url}/metrics`, { accept: 'application/openmetrics-text; version=1.0.0' });
assert.match(body, /\nhttp_request_total\{[^}]*\} 1 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"\} 1 \d/);
done();
