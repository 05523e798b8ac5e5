import assert from 'node:assert/strict';
import { done, scrape } from './lib/check.mjs';
import { exercise, families, labelNames, peerExposition, series, seriesSet } from './lib/migrate.mjs';

import Fastify from 'fastify';
import fastifyMetrics from '@prom-http/fastify';

// url-value-parser's default masks (what promster replaces by #val), each matching a whole path segment
const VALUE =
  /(?<=\/)(?:-?\d+|(?:\d{2}|\d{4})-\d\d-\d\d|[\da-f]{8}(?:-[\da-f]{4}){3}-[\da-f]{12}|[\dA-F]{8}(?:-[\dA-F]{4}){3}-[\dA-F]{12}|[\da-f]{7,}|[\dA-F]{7,}|[\w-]{18,}\.[\w-]{3,}\.[\w-]{39,}|[\w-]{66,})(?=\/|$)/g;

const options = {
  metricNames: { requests: 'http_requests_total' },
  groupBy: 'url', // the request path, as promster's path label
  normalizePath: [
    [/\/{2,}/g, '/'], // empty segments are dropped
    [/(.)\/$/, '$1'], // and so is the trailing slash
    [VALUE, '#val'],
  ],
  labelNames: { route: 'path', status: 'status_code' },
  buckets: [0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 3, 10],
  help: { requests: 'The total HTTP requests.', duration: 'The HTTP request latencies in seconds.' },
};

const app = Fastify();
await app.register(fastifyMetrics, options); // serves GET /metrics
const up = app.metrics.info('nodejs_up', '1 = nodejs server is up, 0 = nodejs server is not up', {}); // up.set(0) for signalIsNotUp()
app.get('/users/:id', async (req) => ({ id: req.params.id }));
app.get('/orders/:id', async (req) => ({ id: req.params.id }));
await app.listen({ port: 3000 });

const [{ url }] = await listening();
await exercise(url);
const after = await scrape(`${url}/metrics`);
const before = await peerExposition('migrate-promster-fastify-before.mjs');

// The same series, label for label, value for value (counts; the durations differ from run to run), except
// the method's case: promster lower-cases it (`get`), prom-http keeps it as sent (`GET`).
const lower = (labels) => ({ ...labels, method: labels.method.toLowerCase() });
for (const name of ['http_requests_total', 'http_request_duration_seconds_count']) {
  assert.deepEqual(labelNames(after, name), ['method', 'path', 'status_code']);
  assert.deepEqual(seriesSet(after, name, lower), seriesSet(before, name));
  assert.ok(series(after, name).every((s) => s.labels.method === 'GET'));
}
const le = (text) => [
  ...new Set(seriesSet(text, 'http_request_duration_seconds_bucket', ({ le }) => ({ le })).map((s) => s.split(' ')[0])),
];
assert.deepEqual(le(after), le(before));
for (const name of ['http_requests_total', 'http_request_duration_seconds']) {
  const help = (text) => text.split('\n').find((l) => l.startsWith(`# HELP ${name} `));
  assert.equal(help(after), help(before));
}
assert.deepEqual(series(after, 'nodejs_up'), series(before, 'nodejs_up'));
up.set(0);
assert.deepEqual(series(await scrape(`${url}/metrics`), 'nodejs_up'), [{ labels: {}, value: 0 }]);

// The process metrics: promster's (prom-client's) are all there.
const processFamilies = (text) => [...families(text)].filter((n) => /^(process|nodejs)_/.test(n) && n !== 'nodejs_up');
assert.ok(processFamilies(before).length > 10);
assert.deepEqual(
  processFamilies(before).filter((n) => !families(after).has(n)),
  [],
);
done();
