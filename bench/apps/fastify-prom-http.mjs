import fastifyMetrics from '@prom-http/fastify';
import Fastify from 'fastify';
import { heap, listenFastify, user } from '../lib/app.mjs';

const app = Fastify();
await app.register(fastifyMetrics);
app.get('/__heap', { config: { metrics: { excludeAll: true } } }, async () => heap());
app.get('/users/:id', async (req) => user(req.params.id));
await listenFastify(app);
