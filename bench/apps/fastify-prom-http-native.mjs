import fastifyMetrics from '@prom-http/fastify';
import Fastify from 'fastify';
import { heap, listenFastify, user } from '../lib/app.mjs';

// prom-http's defaults plus native histogram buckets in the duration histogram.
const app = Fastify();
await app.register(fastifyMetrics, { nativeHistograms: true });
app.get('/__heap', { config: { metrics: { excludeAll: true } } }, async () => heap());
app.get('/users/:id', async (req) => user(req.params.id));
await listenFastify(app);
