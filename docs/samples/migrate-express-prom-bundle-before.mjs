import assert from 'node:assert/strict';
import { done, scrape } from './lib/check.mjs';
import { exercise, labelNames, printIfAsked, series } from './lib/migrate.mjs';

import express from 'express';
import promBundle from 'express-prom-bundle';

const app = express();
app.use(promBundle({ includeMethod: true, includePath: true })); // serves GET /metrics
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
app.get('/orders/:id', (req, res) => res.json({ id: req.params.id }));
app.listen(3000);

const [{ url }] = await listening();
await exercise(url);
const text = await scrape(`${url}/metrics`);
assert.deepEqual(labelNames(text, 'http_request_duration_seconds_count'), ['method', 'path', 'status_code']);
assert.deepEqual(series(text, 'up'), [{ labels: {}, value: 1 }]);
printIfAsked(text);
done();
