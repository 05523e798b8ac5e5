import { done, get, hasSample, scrape } from './lib/check.mjs';

import express from 'express';
import { metrics } from '@prom-http/express';

const app = express();
const m = metrics(); // options optional
app.use(m); // first: records every request after it, serves GET /metrics

const users = express.Router();
users.get('/:id', (req, res) => res.json({ id: req.params.id }));
app.use('/api/users', users); // recorded as path="/api/users/:id"

app.listen(3000);

const [{ url }] = await listening();
await get(`${url}/api/users/7`);
await get(`${url}/api/users/8`);
await get(`${url}/nowhere`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'http_request_total{method="GET",path="/api/users/:id",status="200"}', 2);
hasSample(text, 'http_request_total{method="GET",path="<unmatched>",status="404"}', 1);
hasSample(text, 'process_cpu_seconds_total');
done();
