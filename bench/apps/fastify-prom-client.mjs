// Reference row: fastify-floor plus prom-client loaded with its default (process) metrics, which prom-http
// turns on by default: what having prom-client in the process costs before any request is recorded.
import Fastify from 'fastify';
import promClient from 'prom-client';
import { finishCounter, heap, listenFastify, user } from '../lib/app.mjs';

promClient.collectDefaultMetrics();
const exposition = finishCounter();
const app = Fastify();
app.addHook('onRequest', function emptyHook(_request, _reply, done) {
  done();
});
app.get('/__heap', async () => heap());
app.get('/metrics', async () => exposition());
app.get('/users/:id', async (req) => user(req.params.id));
await listenFastify(app);
