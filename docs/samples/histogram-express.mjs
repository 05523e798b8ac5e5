import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, hasSample, scrape } from './lib/check.mjs';

const app = express();
const m = metrics();
app.use(m);

const itemLatency = m.histogram('item_seconds', 'Item latency', { buckets: [0.01, 0.1, 1] });
app.get('/items/:id', itemLatency, (req, res) => res.json({})); // as route middleware
app.get(
  '/other/:id',
  itemLatency((req, res) => res.json({})),
); // or around a handler

app.listen(3000);
const [{ url }] = await listening();
await get(`${url}/items/1`);
await get(`${url}/other/1`);
hasSample(await scrape(`${url}/metrics`), 'item_seconds_count', 2);
done();
