import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, hasSample, scrape } from './lib/check.mjs';

const app = express();
const m = metrics();
app.use(m);

const byCollection = m.counter('cnt_collection', 'Number of invocations per collection', {
  labels: { collection: (req) => req.params.collection_id, status: (req, res) => res.statusCode },
});
app.get(
  '/collection/:collection_id/item/:item_id',
  byCollection((req, res) => res.json({})),
);

app.listen(3000);
const [{ url }] = await listening();
await get(`${url}/collection/10002/item/76`);
hasSample(await scrape(`${url}/metrics`), 'cnt_collection{collection="10002",status="200"}', 1);
done();
