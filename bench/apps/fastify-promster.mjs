import { getContentType, getSummary, plugin as promster } from '@promster/fastify';
import Fastify from 'fastify';
import { heap, listenFastify, user } from '../lib/app.mjs';

const app = Fastify();
// Its `skip` option leaves the harness's probe and the scrape itself unrecorded.
await app.register(promster, { skip: (request) => request.url === '/__heap' || request.url === '/metrics' });
app.get('/__heap', async () => heap());
// @promster/fastify does not serve the metrics; this answers what @promster/server's handler answers.
app.get('/metrics', async (_req, reply) => {
  reply.type(getContentType());
  return getSummary();
});
app.get('/users/:id', async (req) => user(req.params.id));
await listenFastify(app);
