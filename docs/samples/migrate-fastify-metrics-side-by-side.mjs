import Fastify from 'fastify';
import fastifyMetrics from '@prom-http/fastify';
import legacyMetrics from 'fastify-metrics';
import { Registry } from '@prometheus-io/client';

const app = Fastify();
// fastify-metrics keeps /metrics and its series; its decorator moves aside, as prom-http's is `metrics` too.
await app.register(legacyMetrics, { name: 'oldMetrics', endpoint: '/metrics' });
// prom-http on its own registry and path until the dashboards have moved.
await app.register(fastifyMetrics, { registry: new Registry(), path: '/metrics/prom-http' });

app.get('/users/:id', async (request) => ({ id: request.params.id }));

await app.listen({ port: 3000 });

// Both endpoints answer, each with its own metrics, and each library counts every request.
import { done, get, hasSample, scrape } from './lib/check.mjs';

const [{ url }] = await listening();
await get(`${url}/users/1`);
await get(`${url}/users/2`);
const legacy = await scrape(`${url}/metrics`);
hasSample(legacy, 'http_request_duration_seconds_count{method="GET",route="/users/:id",status_code="200"}', 2);
const current = await scrape(`${url}/metrics/prom-http`);
hasSample(current, 'http_request_total{method="GET",path="/users/:id",status="200"}', 2);
hasSample(current, 'http_request_total{method="GET",path="/metrics",status="200"}', 1); // fastify-metrics' endpoint is a route like any other
hasSample(
  await scrape(`${url}/metrics`),
  'http_request_duration_seconds_count{method="GET",route="/metrics/prom-http",status_code="200"}',
  1,
);
done();
