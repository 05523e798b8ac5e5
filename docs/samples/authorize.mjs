import assert from 'node:assert/strict';
import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, hasSample, scrape } from './lib/check.mjs';

process.env.METRICS_TOKEN = 'secret';
const app = express();

app.use(metrics({ authorize: (req) => req.headers.authorization === `Bearer ${process.env.METRICS_TOKEN}` }));

app.listen(3000);
const [{ url }] = await listening();
assert.equal((await get(`${url}/metrics`)).status, 401);
assert.equal((await get(`${url}/metrics`, { authorization: 'Bearer wrong' })).status, 401);
hasSample(await scrape(`${url}/metrics`, { authorization: 'Bearer secret' }), 'process_cpu_seconds_total');
done();
