import Fastify from 'fastify';
import fastifyMetrics from '@prom-http/fastify';

const app = Fastify();
await app.register(fastifyMetrics); // serves GET /metrics

app.get('/users/:id', async (request) => ({ id: request.params.id }));
app.get('/fail', async () => {
  throw new Error('boom');
});
app.get('/health', { config: { metrics: { doNotTrack: true } } }, async () => 'ok');

await app.listen({ port: 3000 });

// prom-http's defaults for the same requests: the guide's "What changes" table.
import assert from 'node:assert/strict';
import { done, hasSample, scrape } from './lib/check.mjs';
import { sendRequests } from './lib/series.mjs';

const [{ url }] = await listening();
assert.deepEqual(await sendRequests(url), [200, 200, 200, 200, 500, 404, 200]);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'http_request_total{method="GET",path="/users/:id",status="200"}', 3);
hasSample(text, 'http_request_total{method="HEAD",path="/users/:id",status="200"}', 1);
hasSample(text, 'http_request_total{method="GET",path="/fail",status="500"}', 1);
hasSample(text, 'http_request_exceptions_total{method="GET",path="/fail",status="500"}', 1);
hasSample(text, 'http_request_total{method="GET",path="<unmatched>",status="404"}', 1);
hasSample(text, 'http_request_duration_seconds_count{method="GET",path="/users/:id",status="200"}', 3);
hasSample(text, 'http_request_duration_seconds_bucket{le="0.075",method="GET",path="/users/:id",status="200"}');
hasSample(text, 'http_requests_in_progress{method="GET"}', 0);
assert.doesNotMatch(text, /path="\/health"|path="\/metrics"/); // doNotTrack, and prom-http's own endpoint
done();
