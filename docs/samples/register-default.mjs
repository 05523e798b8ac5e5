import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, hasSample, scrape } from './lib/check.mjs';

const app = express();
const m = metrics();
app.use(m);
app.get('/a', (req, res) => res.send('a'));

const byStatus = m.counter('by_status_total', 'Requests by status', { labels: { status: (req, res) => res.statusCode } });
m.registerDefault(byStatus); // applied to every recorded request (not the metrics endpoint; not excluded paths while excludeUserDefaults)

app.listen(3000);
const [{ url }] = await listening();
await get(`${url}/a`);
await get(`${url}/missing`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'by_status_total{status="200"}', 1);
hasSample(text, 'by_status_total{status="404"}', 1);
done();
