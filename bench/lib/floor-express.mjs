// The Express floor app (reference rows, see lib/variants.mjs): what prom-http's design asks of Node and Express
// on every request, with no metrics library at all. The apps using it differ only in what else they load.
import express from 'express';
import { finishCounter, heap, listenExpress, user } from './app.mjs';

/** Express: the root router's dispatch wrapped (where prom-http starts a request once its middleware left the stack). */
export function listenExpressFloor() {
  const exposition = finishCounter();
  const app = express();
  app.get('/__heap', (_req, res) => res.json(heap()));
  app.get('/metrics', (_req, res) => res.type('text/plain').send(exposition()));
  app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
  const router = app.router;
  const dispatch = router.handle;
  router.handle = function wrappedDispatch(req, res, callback) {
    return dispatch.call(this, req, res, callback);
  };
  return listenExpress(app);
}
