// prom-http's own request path alone, without a framework or a network: real Node request and response
// objects go through the engine's start (`track`) and the finish Node publishes for every response, in a
// loop, beside the same loop without prom-http. The difference is what prom-http's code costs when
// everything it touches is hot in the caches; bench/run.mjs measures what it costs inside a running app.
//
//   node bench/request-path.mjs [--requests 200000] [--rounds 5]
import { channel } from 'node:diagnostics_channel';
import { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { PromHttp } from '@prom-http/core/internal';
import { Registry } from 'prom-client';
import { positiveInt } from './lib/args.mjs';
import { median } from './lib/stats.mjs';

const { values: args } = parseArgs({
  options: { requests: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } },
});
const requests = positiveInt(args, 'requests');
const rounds = positiveInt(args, 'rounds');

// What Node's HTTP/1 server publishes when a response has finished.
const finished = channel('http.server.response.finish');
const server = new Server();
const socket = new Socket();
socket.server = server;
const route = { path: '/users/:id' };
const engine = new PromHttp(
  { registry: new Registry(), collectDefaultMetrics: false },
  { template: (req) => req.route?.path, endpoint: () => undefined, url: (req) => req.url },
);

function request() {
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/users/42';
  req.route = route;
  const res = new ServerResponse(req);
  res.statusCode = 200;
  return { req, res };
}
function bare() {
  const { req, res } = request();
  finished.publish({ request: req, response: res, socket, server });
}
function recorded() {
  const { req, res } = request();
  engine.track(req, res, res, req.method, undefined, socket);
  finished.publish({ request: req, response: res, socket, server });
}
function nsPer(fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) fn();
  return Number(process.hrtime.bigint() - start) / requests;
}

const diffs = [];
for (let round = 1; round <= rounds; round++) {
  const a = nsPer(bare);
  const b = nsPer(recorded);
  diffs.push(b - a);
  console.log(`round ${round}: objects alone ${a.toFixed(0)} ns, with prom-http ${b.toFixed(0)} ns: ${(b - a).toFixed(0)} ns per request`);
}
console.log(`median: ${median(diffs).toFixed(0)} ns per request for prom-http's start and finish`);
const text = (await engine.generateMetrics()).body;
const line = String(text)
  .split('\n')
  .find((l) => l.startsWith('http_request_total{'));
if (line !== `http_request_total{method="GET",path="/users/:id",status="200"} ${requests * rounds}`) {
  throw new Error(`the loop's requests were not all recorded: ${line}`);
}
