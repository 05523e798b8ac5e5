// An Express app with prom-http's default metrics: one line, `app.use(metrics())` (options below).
//
//   PORT=3000 HOST=127.0.0.1 node examples/express-basic/server.mjs
//   NATIVE_HISTOGRAMS=1 EXEMPLARS=1 node examples/express-basic/server.mjs   (as in docker/compose.yaml)
//   curl localhost:3000/api/users/1 && curl localhost:3000/metrics
import { metrics } from '@prom-http/express';
import express from 'express';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '0.0.0.0';

const users = new Map([
  ['1', { id: '1', name: 'Ada' }],
  ['2', { id: '2', name: 'Grace' }],
  ['42', { id: '42', name: 'Douglas' }],
]);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Off unless asked for, as a user running the example would have it; the docker stack (docker/compose.yaml) sets
// both. NATIVE_HISTOGRAMS=1: native buckets beside the classic ones, served to a Prometheus that asks for them.
// EXEMPLARS=1: an exemplar from the W3C `traceparent` header of each sampled request, which the stack's load
// generator sends; an app with a tracer uses `exemplars: true` instead (the ids of the active OpenTelemetry span).
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;
function exemplarFromTraceparent(req) {
  const match = TRACEPARENT.exec(String(req.headers.traceparent ?? ''));
  // Bit 0 of the flags: sampled, as `exemplars: true` keeps only sampled traces.
  if (match === null || (Number.parseInt(match[3], 16) & 1) === 0) return undefined;
  return { trace_id: match[1], span_id: match[2] };
}
const options = {
  nativeHistograms: process.env.NATIVE_HISTOGRAMS === '1',
  exemplars: process.env.EXEMPLARS === '1' ? exemplarFromTraceparent : false,
};

const app = express();
app.use(express.json());
// The one line: records every request below and serves GET /metrics.
app.use(metrics(options));

app.get('/', function home(_req, res) {
  res.json({ service: 'express-basic', routes: ['/api/users', '/api/users/:id', '/slow', '/boom'] });
});

// Nested routers: the route label is the whole template, `/api/users/:id`, whatever the id.
const usersRouter = express.Router();
usersRouter.get('/', function listUsers(_req, res) {
  res.json([...users.values()]);
});
usersRouter.get('/:id', function getUser(req, res) {
  const user = users.get(req.params.id);
  if (user === undefined) {
    res.status(404).json({ error: `no user ${req.params.id}` });
    return;
  }
  res.json(user);
});
usersRouter.post('/', function createUser(req, res) {
  const id = String(users.size + 1);
  const user = { id, name: String(req.body?.name ?? `user ${id}`) };
  users.set(id, user);
  res.status(201).json(user);
});
const api = express.Router();
api.use('/users', usersRouter);
app.use('/api', api);

// `?ms=` picks the delay (capped at 5 s); without it, 300 ms to 1 s, so the latency panels have a tail to show.
app.get('/slow', async function slow(req, res) {
  const asked = Number(req.query.ms);
  const ms = Number.isFinite(asked) ? Math.min(Math.max(asked, 0), 5000) : 300 + Math.random() * 700;
  await sleep(ms);
  res.json({ sleptMs: Math.round(ms) });
});

// Express 5 passes the thrown error to the error handler: recorded as an exception with status 500.
app.get('/boom', function boom() {
  throw new Error('boom');
});

app.use(function notFound(_req, res) {
  res.status(404).json({ error: 'not found' });
});
app.use(function errorHandler(err, _req, res, next) {
  if (res.headersSent) {
    next(err);
    return;
  }
  res.status(500).json({ error: err.message });
});

const server = app.listen(port, host, (err) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  const { port: bound } = server.address();
  console.log(`express-basic: metrics at http://${host === '0.0.0.0' ? 'localhost' : host}:${bound}/metrics`);
});

function shutdown(signal) {
  console.log(`express-basic: ${signal}, closing`);
  // close() ends the idle keep-alive connections and lets the requests in flight finish. A connection busy now
  // (a scrape, a slow request) would be kept open by its client's next request: from now on, every response
  // closes its connection.
  server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
  server.close(() => process.exit(0));
  setTimeout(() => {
    console.error('express-basic: requests still open after 10 s, exiting');
    process.exit(1);
  }, 10_000).unref();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
