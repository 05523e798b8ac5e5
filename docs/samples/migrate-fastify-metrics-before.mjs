import Fastify from 'fastify';
import fastifyMetrics from 'fastify-metrics';

const app = Fastify();
await app.register(fastifyMetrics, { endpoint: '/metrics' });

app.get('/users/:id', async (request) => ({ id: request.params.id }));
app.get('/fail', async () => {
  throw new Error('boom');
});
app.get('/health', { config: { disableMetrics: true } }, async () => 'ok');

await app.listen({ port: 3000 });

// What fastify-metrics 14 records for the requests of every migration sample, as the guide's table says.
import assert from 'node:assert/strict';
import { done, hasNoSample, hasSample, scrape } from './lib/check.mjs';
import { printIfAsked } from './lib/migrate.mjs';
import { sendRequests } from './lib/series.mjs';

const [{ url }] = await listening();
assert.deepEqual(await sendRequests(url), [200, 200, 200, 200, 500, 404, 200]);
const text = await scrape(`${url}/metrics`);
const labels = (route, status) => `{method="GET",route="${route}",status_code="${status}"}`;
hasSample(text, `http_request_duration_seconds_count${labels('/users/:id', 200)}`, 3);
hasSample(text, `http_request_summary_seconds_count${labels('/users/:id', 200)}`, 3);
hasSample(text, `http_request_duration_seconds_count${labels('/fail', 500)}`, 1);
hasSample(text, 'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/users/:id",status_code="200"}');
hasSample(text, 'http_request_summary_seconds{quantile="0.01",method="GET",route="/users/:id",status_code="200"}');
assert.doesNotMatch(text, /method="HEAD"|status_code="404"|route="\/health"/); // HEAD, 404 and disableMetrics: not recorded
hasNoSample(text, 'http_request_total');
printIfAsked(text);
done();
