import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, hasNoSample, hasSample, scrape } from './lib/check.mjs';

const app = express();
const m = metrics();
app.use(m);
const handler = (req, res) => res.send('ok');
const pong = (req, res) => res.send('pong');
const pings = m.counter('pings_total', 'Pings');

app.get('/ping', m.doNotTrack(), pings(pong)); // no default metrics; custom ones still run
app.get('/internal', m.excludeAllMetrics()(pings(handler))); // no metric at all

app.listen(3000);
const [{ url }] = await listening();
await get(`${url}/ping`);
await get(`${url}/internal`);
const text = await scrape(`${url}/metrics`);
hasNoSample(text, 'http_request_total');
hasSample(text, 'pings_total', 1);
done();
