import assert from 'node:assert/strict';
import { done, scrape } from './lib/check.mjs';
import { exercise, labelNames, printIfAsked, series } from './lib/migrate.mjs';

import Fastify from 'fastify';
import { getContentType, getSummary, plugin as promster, signalIsUp } from '@promster/fastify';

const app = Fastify();
await app.register(promster);
app.get('/metrics', async (req, reply) => reply.type(getContentType()).send(await getSummary()));
app.get('/users/:id', async (req) => ({ id: req.params.id }));
app.get('/orders/:id', async (req) => ({ id: req.params.id }));
await app.listen({ port: 3000 });
signalIsUp();

const [{ url }] = await listening();
await exercise(url);
const text = await scrape(`${url}/metrics`);
assert.deepEqual(labelNames(text, 'http_requests_total'), ['method', 'path', 'status_code']);
assert.deepEqual(series(text, 'nodejs_up'), [{ labels: {}, value: 1 }]);
printIfAsked(text);
done();
