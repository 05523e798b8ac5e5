// The Fastify floor app (reference rows, see lib/variants.mjs): what prom-http's design asks of Node and Fastify
// on every request, with no metrics library at all. The apps using it differ only in what else they load.
import Fastify from 'fastify';
import { finishCounter, heap, listenFastify, user } from './app.mjs';

/** Fastify: one empty onRequest hook (where prom-http starts a request). */
export async function listenFastifyFloor() {
  const exposition = finishCounter();
  const app = Fastify();
  app.addHook('onRequest', function emptyHook(_request, _reply, done) {
    done();
  });
  app.get('/__heap', async () => heap());
  app.get('/metrics', async () => exposition());
  app.get('/users/:id', async (req) => user(req.params.id));
  await listenFastify(app);
}
