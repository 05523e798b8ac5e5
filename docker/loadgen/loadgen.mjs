// Steady, mixed traffic against the example apps, so that every panel of the Grafana dashboard has something
// to show: fast and slow routes, handler 404s, unmatched paths, exceptions. Each request carries a W3C
// `traceparent` header with fresh random ids, sampled, as a traced client would send: the apps (EXEMPLARS=1) make
// their exemplars from it. Node's standard library only.
//
//   TARGETS=http://express-app:3000,http://fastify-app:3001 RPS=20 node loadgen.mjs
//
// TARGETS  comma-separated base URLs                 (default: the two compose services)
// RPS      requests per second, per target           (default 20)
// DURATION seconds before stopping, 0 = until killed (default 0)
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const targets = (process.env.TARGETS ?? 'http://express-app:3000,http://fastify-app:3001')
  .split(',')
  .map((t) => t.trim())
  .filter((t) => t !== '');
const rps = Number(process.env.RPS ?? 20);
const duration = Number(process.env.DURATION ?? 0);
if (targets.length === 0 || !(rps > 0) || !(duration >= 0)) {
  console.error('loadgen: TARGETS must name at least one URL, RPS must be > 0 and DURATION >= 0');
  process.exit(2);
}
// Beyond this many unanswered requests (a target down or stalled) ticks are skipped instead of piling up sockets.
const MAX_IN_FLIGHT = 50 * targets.length;

/** [weight, method, path()] */
const ROUTES = [
  [10, 'GET', () => '/'],
  [10, 'GET', () => '/api/users'],
  [30, 'GET', () => `/api/users/${pick(['1', '2', '42'])}`],
  [5, 'GET', () => `/api/users/${100 + Math.floor(Math.random() * 900)}`],
  [5, 'POST', () => '/api/users'],
  [5, 'GET', () => '/slow'],
  [3, 'GET', () => '/boom'],
  [2, 'GET', () => `/no-such-page/${Math.floor(Math.random() * 10)}`],
];
const TOTAL_WEIGHT = ROUTES.reduce((sum, [weight]) => sum + weight, 0);

function pick(values) {
  return values[Math.floor(Math.random() * values.length)];
}

function pickRoute() {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const route of ROUTES) {
    r -= route[0];
    if (r < 0) return route;
  }
  return ROUTES[0];
}

const counts = new Map();
let inFlight = 0;

function count(key) {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function send(base) {
  const [, method, path] = pickRoute();
  const url = new URL(path(), base);
  const body = method === 'POST' ? JSON.stringify({ name: `load ${Date.now()}` }) : undefined;
  inFlight++;
  // `agent: false` opens a new connection, and so resolves the service name again, for every request: Docker's
  // DNS answers with the replicas in turn, so every replica gets traffic (a keep-alive pool would stick to one).
  const req = http.request(
    url,
    {
      method,
      agent: false,
      timeout: 10_000,
      headers: {
        traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
        ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
      },
    },
    (res) => {
      res.resume();
      res.on('end', () => {
        inFlight--;
        count(String(res.statusCode));
      });
    },
  );
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (err) => {
    inFlight--;
    count(err.code ?? err.message);
  });
  req.end(body);
}

const tick = setInterval(
  () => {
    if (inFlight >= MAX_IN_FLIGHT) {
      count('skipped');
      return;
    }
    for (const base of targets) send(base);
  },
  Math.max(1, Math.round(1000 / rps)),
);

function report() {
  const parts = [...counts].map(([key, n]) => `${key}=${n}`).join(' ');
  console.log(`loadgen: ${parts || 'nothing answered yet'} (in flight ${inFlight})`);
  counts.clear();
}
const reporter = setInterval(report, 10_000);

function stop() {
  clearInterval(tick);
  clearInterval(reporter);
  report();
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
if (duration > 0) setTimeout(stop, duration * 1000);

console.log(`loadgen: ${rps} requests/s to each of ${targets.join(', ')}`);
