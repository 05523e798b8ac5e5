// What a property read of Express's `req` costs. Express 5 gives every request the app's request prototype
// (`Object.setPrototypeOf(req, app.request)`) and its router then adds properties: made that way, two requests
// never share an object shape (map; the prototype step alone keeps them sharing one, the properties added after
// it split them), so V8's property caches, which are keyed by shape, miss on every new request. This times the
// same reads on Node request objects made with and without the prototype step, as plain reads and through
// `Reflect.get` (which looks the property up without the caches: how prom-http reads Express's requests and
// responses once they are done).
//
//   node bench/express-shapes.mjs [--objects 20000] [--rounds 5]
//   node --allow-natives-syntax bench/express-shapes.mjs   (also says whether two such requests share a shape)
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { median } from './lib/stats.mjs';

const { values: args } = parseArgs({
  options: { objects: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } },
});
const count = positiveInt(args, 'objects');
const rounds = positiveInt(args, 'rounds');

// What Express 5 does to a request: app.handle sets the app's request prototype (one with a data property,
// `app`), then the router adds its own properties (`baseUrl`, `originalUrl`, `params`).
const appRequest = Object.create(IncomingMessage.prototype, {
  app: { configurable: true, enumerable: true, writable: true, value: {} },
});
const socket = new Socket();
function request(withPrototype) {
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/users/42';
  req.res = null;
  if (withPrototype) Object.setPrototypeOf(req, appRequest);
  req.baseUrl = '';
  req.originalUrl = req.url;
  req.params = {};
  return req;
}

const reads = {
  'own property (method)': (req) => req.method,
  'missing property (route)': (req) => req.route,
  'prototype property (app)': (req) => req.app,
  'Reflect.get own (method)': (req) => Reflect.get(req, 'method'),
  'Reflect.get missing (route)': (req) => Reflect.get(req, 'route'),
  'Reflect.get prototype (app)': (req) => Reflect.get(req, 'app'),
};

let sameShape = null;
try {
  const same = new Function('a', 'b', 'return %HaveSameMap(a, b)');
  // The prototype step alone keeps one shape for all requests: the properties added after it split them.
  const prototypeOnly = () => Object.setPrototypeOf(new IncomingMessage(socket), appRequest);
  sameShape = {
    plain: same(request(false), request(false)),
    prototypeOnly: same(prototypeOnly(), prototypeOnly()),
    express: same(request(true), request(true)),
  };
} catch {
  // Without --allow-natives-syntax.
}

const results = [];
// Every read's value is counted, so no read can be optimized away.
let found = 0;
for (const withPrototype of [false, true]) {
  const objects = Array.from({ length: count }, () => request(withPrototype));
  for (const [name, read] of Object.entries(reads)) {
    const times = [];
    // The first round warms the function up; each round reads every object once.
    for (let round = 0; round <= rounds; round++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < objects.length; i++) if (read(objects[i]) !== undefined) found++;
      const ns = Number(process.hrtime.bigint() - start) / objects.length;
      if (round > 0) times.push(ns);
    }
    results.push({
      objects: withPrototype ? 'prototype set, then properties (as in Express)' : 'as Node made them',
      read: name,
      ns: median(times),
    });
  }
}

console.log(`Node ${process.version}; ${count} request objects per set; median of ${rounds} rounds; ${found} reads found a value`);
if (sameShape !== null)
  console.log(
    `two requests share a shape: as Node made them ${sameShape.plain}, after Object.setPrototypeOf alone ${sameShape.prototypeOnly}, then with the router's properties ${sameShape.express}`,
  );
for (const r of results) console.log(`${r.objects.padEnd(44)} ${r.read.padEnd(32)} ${r.ns.toFixed(0).padStart(5)} ns per read`);
