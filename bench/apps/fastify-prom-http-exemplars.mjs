import fastifyMetrics from '@prom-http/fastify';
import Fastify from 'fastify';
import { heap, listenFastify, traceparentExemplar, user } from '../lib/app.mjs';

// prom-http's defaults plus an exemplar on every request, read by the function form from the traceparent
// header the harness sends (without an OpenTelemetry SDK, whose own cost is not prom-http's).
const app = Fastify();
await app.register(fastifyMetrics, { exemplars: traceparentExemplar });
app.get('/__heap', { config: { metrics: { excludeAll: true } } }, async () => heap());
app.get('/users/:id', async (req) => user(req.params.id));
await listenFastify(app);
