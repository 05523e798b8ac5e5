import Fastify from 'fastify';
import fastifyMetrics from 'fastify-metrics';
import { heap, listenFastify, user } from '../lib/app.mjs';

const app = Fastify();
// Its defaults: process metrics and route metrics (histogram and summary) on, /metrics served.
await app.register(fastifyMetrics);
app.get('/__heap', { config: { disableMetrics: true } }, async () => heap());
app.get('/users/:id', async (req) => user(req.params.id));
await listenFastify(app);
