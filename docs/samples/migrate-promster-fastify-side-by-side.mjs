import assert from 'node:assert/strict';
import { done, get, scrape } from './lib/check.mjs';
import { series } from './lib/migrate.mjs';

import Fastify from 'fastify';
import fastifyMetrics from '@prom-http/fastify';
import { getContentType, getSummary, plugin as promster } from '@promster/fastify';
import { Registry } from 'prom-client';

const app = Fastify();
await app.register(fastifyMetrics, {
  registry: new Registry(), // its own: no name clash, and the new names are final
  path: '/next/metrics', // /metrics stays promster's
  excludedPaths: '/metrics$', // promster's endpoint is not a request of the app
});
await app.register(promster); // decorates fastify.Prometheus, not fastify.metrics: no clash
app.get('/metrics', async (req, reply) => reply.type(getContentType()).send(await getSummary()));
app.get('/users/:id', async (req) => ({ id: req.params.id }));
await app.listen({ port: 3000 });

const [{ url }] = await listening();
await get(`${url}/users/1`);
const old = await scrape(`${url}/metrics`);
const next = await scrape(`${url}/next/metrics`);
await get(`${url}/users/2`);
const oldAgain = await scrape(`${url}/metrics`);
const nextAgain = await scrape(`${url}/next/metrics`);

// Both endpoints answer and each library counts the app's requests; promster also counts both endpoints.
const count = (text, path) => series(text, 'http_requests_total').find((s) => s.labels.path === path)?.value;
assert.equal(count(old, '/users/#val'), 1);
assert.equal(count(oldAgain, '/users/#val'), 2);
assert.equal(count(oldAgain, '/next/metrics'), 1);
assert.deepEqual(series(next, 'http_request_total'), [{ labels: { method: 'GET', path: '/users/:id', status: '200' }, value: 1 }]);
assert.deepEqual(series(nextAgain, 'http_request_total'), [{ labels: { method: 'GET', path: '/users/:id', status: '200' }, value: 2 }]);
done();
