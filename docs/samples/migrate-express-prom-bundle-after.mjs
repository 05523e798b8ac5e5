import assert from 'node:assert/strict';
import { done, scrape } from './lib/check.mjs';
import { exercise, families, labelNames, peerExposition, seriesSet } from './lib/migrate.mjs';

import express from 'express';
import { metrics } from '@prom-http/express';

// url-value-parser's default masks (what express-prom-bundle replaces by #val), each matching a whole path segment
const VALUE =
  /(?<=\/)(?:-?\d+|(?:\d{2}|\d{4})-\d\d-\d\d|[\da-f]{8}(?:-[\da-f]{4}){3}-[\da-f]{12}|[\dA-F]{8}(?:-[\dA-F]{4}){3}-[\dA-F]{12}|[\da-f]{7,}|[\dA-F]{7,}|[\w-]{18,}\.[\w-]{3,}\.[\w-]{39,}|[\w-]{66,})(?=\/|$)/g;

const app = express();
app.use(
  metrics({
    groupBy: 'url', // the request path, as includePath gives it
    normalizePath: [
      [/\/{2,}/g, '/'], // empty segments are dropped
      [/(.)\/$/, '$1'], // and so is the trailing slash
      [VALUE, '#val'],
    ],
    labelNames: { route: 'path', status: 'status_code' },
    buckets: [0.003, 0.03, 0.1, 0.3, 1.5, 10],
    help: { duration: 'duration histogram of http responses labeled with: status_code, method, path' },
    collectDefaultMetrics: false, // express-prom-bundle collects none unless promClient.collectDefaultMetrics
  }),
); // serves GET /metrics
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
app.get('/orders/:id', (req, res) => res.json({ id: req.params.id }));
app.listen(3000);

const [{ url }] = await listening();
await exercise(url);
const after = await scrape(`${url}/metrics`);
const before = await peerExposition('migrate-express-prom-bundle-before.mjs');

// The same series, label for label, value for value (counts; the durations differ from run to run).
const duration = 'http_request_duration_seconds';
assert.deepEqual(labelNames(after, `${duration}_count`), ['method', 'path', 'status_code']);
assert.deepEqual(seriesSet(after, `${duration}_count`), seriesSet(before, `${duration}_count`));
const le = (text) => [...new Set(seriesSet(text, `${duration}_bucket`, ({ le }) => ({ le })).map((s) => s.split(' ')[0]))];
assert.deepEqual(le(after), le(before));
const help = (text) => text.split('\n').find((l) => l.startsWith(`# HELP ${duration} `));
assert.equal(help(after), help(before));

// By design: no `up` gauge; prom-http's own metrics come in addition.
assert.ok(families(before).has('up') && !families(after).has('up'));
for (const name of ['http_request_total', 'http_request_exceptions_total', 'http_requests_in_progress', 'exporter_info']) {
  assert.ok(families(after).has(name), name);
}
done();
