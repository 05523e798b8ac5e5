import assert from 'node:assert/strict';
import promBundle from 'express-prom-bundle';
import { Registry } from 'prom-client';
import { done, scrape } from './lib/check.mjs';
import { exercise, labelNames, series } from './lib/migrate.mjs';

import express from 'express';
import { metrics } from '@prom-http/express';

const app = express();
app.use(
  metrics({
    labelNames: { method: false, status: 'status_code' },
    buckets: [0.003, 0.03, 0.1, 0.3, 1.5, 10],
    help: { duration: 'duration histogram of http responses labeled with: status_code' },
    collectDefaultMetrics: false,
  }),
);
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
app.get('/orders/:id', (req, res) => res.json({ id: req.params.id }));
app.listen(3000);

// express-prom-bundle with no options, on a registry of its own, for the comparison.
const peer = express();
peer.use(promBundle({ promRegistry: new Registry() }));
peer.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
peer.get('/orders/:id', (req, res) => res.json({ id: req.params.id }));
peer.listen(3001);

const [mine, theirs] = await listening();
await exercise(mine.url);
await exercise(theirs.url);
const after = await scrape(`${mine.url}/metrics`);
const before = await scrape(`${theirs.url}/metrics`);

// By design, the route label stays (it cannot be dropped): queries that aggregate by status_code give the same.
const count = 'http_request_duration_seconds_count';
assert.deepEqual(labelNames(before, count), ['status_code']);
assert.deepEqual(labelNames(after, count), ['path', 'status_code']);
const byStatus = (text) => {
  const sums = {};
  for (const { labels, value } of series(text, count)) sums[labels.status_code] = (sums[labels.status_code] ?? 0) + value;
  return sums;
};
assert.deepEqual(byStatus(after), byStatus(before));
assert.deepEqual(byStatus(after), { 200: 4, 404: 2 });
done();
