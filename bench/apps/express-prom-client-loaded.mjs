// Reference row: express-floor with prom-client loaded but no default metrics: with express-prom-client, it tells
// the cost of having prom-client in the process from that of its default (process) metrics.
import express from 'express';
import 'prom-client';
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
