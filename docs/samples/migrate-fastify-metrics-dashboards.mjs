import Fastify from 'fastify';
import fastifyMetrics from '@prom-http/fastify';

const app = Fastify();
await app.register(fastifyMetrics, {
  labelNames: { route: 'route', status: 'status_code' },
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], // the client's default, which fastify-metrics keeps
  excludedMethods: ['HEAD', 'OPTIONS', 'TRACE', 'CONNECT'],
  skip: function unmatched(request) {
    return request.routeOptions.url === undefined; // fastify-metrics records no 404
  },
  help: { duration: 'request duration in seconds' },
});

// fastify-metrics also times each route with a summary: keep it while a dashboard reads its quantiles.
const summary = app.metrics.summary('http_request_summary_seconds', 'request duration in seconds summary', {
  labels: {
    method: (request) => request.method,
    route: (request) => request.routeOptions.url,
    status_code: (request, reply) => reply.statusCode,
  },
});
app.addHook('onRoute', function timeWithTheSummary(route) {
  if (route.method !== 'HEAD' && !route.config?.metrics?.excludeAll) route.handler = summary(route.handler);
});

app.get('/users/:id', async (request) => ({ id: request.params.id }));
app.get('/fail', async () => {
  throw new Error('boom');
});
app.get('/health', { config: { metrics: { excludeAll: true } } }, async () => 'ok');

await app.listen({ port: 3000 });

// The proof that dashboards keep working: fastify-metrics' app (the "before" sample, run in a process of its
// own) and this one got the same requests; the series of both metrics, their label names and label values, the
// counts and the help texts are the same.
import assert from 'node:assert/strict';
import { done, scrape } from './lib/check.mjs';
import { peerExposition } from './lib/migrate.mjs';
import { parse, sendRequests, seriesOf } from './lib/series.mjs';

const [{ url }] = await listening();
await sendRequests(url);
const before = parse(await peerExposition('migrate-fastify-metrics-before.mjs'));
const after = parse(await scrape(`${url}/metrics`));
for (const family of ['http_request_duration_seconds', 'http_request_summary_seconds']) {
  assert.equal(after.get(family)?.type, before.get(family).type, family);
  assert.equal(after.get(family).help, before.get(family).help, family);
  assert.deepEqual(seriesOf(after, family), seriesOf(before, family), family);
  const counts = (f) => seriesOf(f, family, { withValues: true }).filter((s) => s.startsWith(`${family}_count`));
  assert.deepEqual(counts(after), counts(before), family);
}
// What prom-http has in addition; the process metrics are the client's, the same on both sides.
const added = [...after.keys()].filter((f) => !before.has(f));
assert.deepEqual(added.sort(), [
  'exporter_info',
  'exporter_label_errors_total',
  'http_request_exceptions_total',
  'http_request_total',
  'http_requests_in_progress',
]);
assert.deepEqual(
  [...before.keys()].filter((f) => !after.has(f)),
  [],
);
done();
