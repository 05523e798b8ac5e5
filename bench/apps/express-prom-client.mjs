// Reference row: express-floor plus prom-client loaded with its default (process) metrics, which prom-http
// turns on by default: what having prom-client in the process costs before any request is recorded.
import express from 'express';
import promClient from 'prom-client';
import { finishCounter, heap, listenExpress, user } from '../lib/app.mjs';

promClient.collectDefaultMetrics();
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
