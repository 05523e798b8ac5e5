// Reference row: express-prom-client plus the two clock reads a duration needs, and nothing else:
// performance.now() when the root router's dispatch starts a request and when Node publishes its finished
// response (lib/floor-express.mjs's hooks, with the clock in them).
import { subscribe } from 'node:diagnostics_channel';
import express from 'express';
import promClient from 'prom-client';
import { heap, listenExpress, user } from '../lib/app.mjs';

promClient.collectDefaultMetrics();
let finished = 0;
let started = 0;
let total = 0;
subscribe('http.server.response.finish', function countFinished() {
  finished++;
  total += performance.now() - started;
});
const app = express();
app.get('/__heap', (_req, res) => res.json(heap()));
app.get('/metrics', (_req, res) => res.type('text/plain').send(`floor_finished_total{route="/users/:id"} ${total > 0 ? finished : 0}\n`));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
const router = app.router;
const dispatch = router.handle;
router.handle = function clockDispatch(req, res, callback) {
  started = performance.now();
  return dispatch.call(this, req, res, callback);
};
listenExpress(app);
