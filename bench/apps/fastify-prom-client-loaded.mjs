// Reference row: fastify-floor with prom-client loaded but no default metrics: with fastify-prom-client, it tells
// the cost of having prom-client in the process from that of its default (process) metrics.
import Fastify from 'fastify';
import 'prom-client';
import { finishCounter, heap, listenFastify, user } from '../lib/app.mjs';

const exposition = finishCounter();
const app = Fastify();
app.addHook('onRequest', function emptyHook(_request, _reply, done) {
  done();
});
app.get('/__heap', async () => heap());
app.get('/metrics', async () => exposition());
app.get('/users/:id', async (req) => user(req.params.id));
await listenFastify(app);
