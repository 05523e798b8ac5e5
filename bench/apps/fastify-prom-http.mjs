import Fastify from 'fastify';
import { heap, importPromHttp, listenFastify, user } from '../lib/app.mjs';

// The bench's build of prom-http, or another checkout's (PROMHTTP_DIR, for the `-baseline` rows).
const { default: fastifyMetrics } = await importPromHttp('fastify');
const app = Fastify();
await app.register(fastifyMetrics);
app.get('/__heap', { config: { metrics: { excludeAll: true } } }, async () => heap());
app.get('/users/:id', async (req) => user(req.params.id));
await listenFastify(app);
