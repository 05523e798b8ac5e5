import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, hasSample, scrape } from './lib/check.mjs';

const app = express();
const m = metrics();
app.use(m);

const sizes = m.summary('report_seconds', 'Report time', { percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 600, ageBuckets: 5 });
app.get(
  '/report',
  sizes((req, res) => res.json({})),
);

app.listen(3000);
const [{ url }] = await listening();
await get(`${url}/report`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'report_seconds_count', 1);
hasSample(text, 'report_seconds{quantile="0.99"}');
done();
