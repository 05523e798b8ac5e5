// Reference row: the least prom-http's Fastify design can cost, with no metrics library at all: one empty
// onRequest hook (where prom-http starts a request) and one subscriber counting finished responses (where it
// finishes one); nothing is recorded per request.
import Fastify from 'fastify';
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
