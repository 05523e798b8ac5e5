import assert from 'node:assert/strict';
import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, hasSample, scrape } from './lib/check.mjs';

const app = express();
app.get('/a', (req, res) => res.send('a'));

const m = metrics({ path: null });
app.use(m);
await m.startHttpServer(9100, { host: '127.0.0.1' }); // Fastify: app.metrics.startHttpServer(...)

app.listen(3000);
const [metricsServer, appServer] = await listening();
await get(`${appServer.url}/a`);
assert.equal((await get(`${appServer.url}/metrics`)).status, 404);
hasSample(await scrape(`${metricsServer.url}/metrics`), 'http_request_total{method="GET",path="<unmatched>",status="404"}', 1);
done();
