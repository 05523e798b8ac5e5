import assert from 'node:assert/strict';
import { done, scrape } from './lib/check.mjs';
import { exercise, labelNames, printIfAsked, series } from './lib/migrate.mjs';

import express from 'express';
import { createMiddleware, getContentType, getSummary, signalIsUp } from '@promster/express';

const app = express();
app.use(createMiddleware({ app }));
app.get('/metrics', async (req, res) => {
  res.setHeader('Content-Type', getContentType());
  res.end(await getSummary());
});
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
app.get('/orders/:id', (req, res) => res.json({ id: req.params.id }));
app.listen(3000, () => signalIsUp());

const [{ url }] = await listening();
await exercise(url);
const text = await scrape(`${url}/metrics`);
assert.deepEqual(labelNames(text, 'http_requests_total'), ['method', 'path', 'status_code']);
assert.deepEqual(series(text, 'nodejs_up'), [{ labels: {}, value: 1 }]);
printIfAsked(text);
done();
