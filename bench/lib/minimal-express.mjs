// The minimal recorder of the reference rows express-minimal*: the least any library can do to record
// GET /users/:id's duration histogram by route on Express with prom-http's design. A clock read when the root
// router's dispatch starts a request, the request kept on its connection in between (as prom-http keeps it), a
// clock read when Node publishes the finished response, the route read from `req.route` and one histogram
// observation. No options, no status or method label, no error tracking, no in-progress gauge.
import { subscribe } from 'node:diagnostics_channel';
import express from 'express';
import { heap, listenExpress, user } from './app.mjs';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const byRoute = new Map();
function histogramOf(route) {
  let h = byRoute.get(route);
  if (h === undefined) {
    h = { route, counts: new Float64Array(BUCKETS.length + 1), sum: 0 };
    byRoute.set(route, h);
  }
  return h;
}

const kOpen = Symbol('open');
subscribe('http.server.response.finish', function finished({ socket, response }) {
  const open = socket?.[kOpen];
  if (open === undefined || open.length === 0) return;
  const started = open.pop();
  if (started.res !== response) return;
  const seconds = (performance.now() - started.start) / 1000;
  const route = Reflect.get(started.req, 'route');
  const h = histogramOf(route === undefined ? '<unmatched>' : route.path);
  h.sum += seconds;
  let i = 0;
  while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
  h.counts[i]++;
});

/** Starts the app with the minimal recorder; its /metrics shows the count per route. */
export function listenExpressMinimal() {
  const app = express();
  app.get('/__heap', (_req, res) => res.json(heap()));
  app.get('/metrics', (_req, res) => {
    let text = '';
    for (const h of byRoute.values()) text += `minimal_request_count{route="${h.route}"} ${h.counts.reduce((a, b) => a + b, 0)}\n`;
    res.type('text/plain').send(text);
  });
  app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
  const router = app.router;
  const dispatch = router.handle;
  router.handle = function minimalDispatch(req, res, callback) {
    const socket = req.socket;
    let open = socket[kOpen];
    if (open === undefined) {
      open = [];
      socket[kOpen] = open;
    }
    open.push({ start: performance.now(), req, res });
    return dispatch.call(this, req, res, callback);
  };
  return listenExpress(app);
}
