// Reference row: the least prom-http's Express design can cost, with no metrics library at all. The root
// router's dispatch is wrapped (where prom-http starts a request once its middleware has left the stack) and
// one subscriber counts finished responses (where prom-http finishes one); nothing is recorded per request.
import express from 'express';
import { finishCounter, heap, listenExpress, user } from '../lib/app.mjs';

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
listenExpress(app);
