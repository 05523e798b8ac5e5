// A Fastify app with prom-http's default metrics: one line, `await app.register(fastifyMetrics)` (options below).
//
//   PORT=3001 HOST=127.0.0.1 node examples/fastify-basic/server.mjs
//   NATIVE_HISTOGRAMS=1 EXEMPLARS=1 node examples/fastify-basic/server.mjs   (as in docker/compose.yaml)
//   curl localhost:3001/api/users/1 && curl localhost:3001/metrics
import fastifyMetrics from '@prom-http/fastify';
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 3001);
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

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
// The one line: records every request and serves GET /metrics.
await app.register(fastifyMetrics, options);

app.get('/', async function home() {
  return { service: 'fastify-basic', routes: ['/api/users', '/api/users/:id', '/slow', '/boom'] };
});

// Under a plugin prefix: the route label is the whole template, `/api/users/:id`, whatever the id.
await app.register(
  async function usersRoutes(api) {
    api.get('/users', async function listUsers() {
      return [...users.values()];
    });
    api.get('/users/:id', async function getUser(request, reply) {
      const user = users.get(request.params.id);
      if (user === undefined) return reply.code(404).send({ error: `no user ${request.params.id}` });
      return user;
    });
    api.post('/users', async function createUser(request, reply) {
      const id = String(users.size + 1);
      const user = { id, name: String(request.body?.name ?? `user ${id}`) };
      users.set(id, user);
      return reply.code(201).send(user);
    });
  },
  { prefix: '/api' },
);

// `?ms=` picks the delay (capped at 5 s); without it, 300 ms to 1 s, so the latency panels have a tail to show.
app.get('/slow', async function slow(request) {
  const asked = Number(request.query.ms);
  const ms = Number.isFinite(asked) ? Math.min(Math.max(asked, 0), 5000) : 300 + Math.random() * 700;
  await sleep(ms);
  return { sleptMs: Math.round(ms) };
});

// A rejected handler: Fastify answers 500, recorded as an exception.
app.get('/boom', async function boom() {
  throw new Error('boom');
});

await app.listen({ port, host });
const { port: bound } = app.server.address();
console.log(`fastify-basic: metrics at http://${host === '0.0.0.0' ? 'localhost' : host}:${bound}/metrics`);

async function shutdown(signal) {
  console.log(`fastify-basic: ${signal}, closing`);
  setTimeout(() => {
    console.error('fastify-basic: requests still open after 10 s, exiting');
    process.exit(1);
  }, 10_000).unref();
  await app.close();
  process.exit(0);
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
