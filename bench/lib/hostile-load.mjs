// Load generator for hostile.mjs, run as its own process: N keep-alive requests, each to a fresh random URL.
// Half go to GET /users/<random id> (numeric or a random slug), half to random paths no route matches, as a
// scanner or a crawler of old links would send. Seeded, so that every variant gets the same URLs.
//
//   node bench/lib/hostile-load.mjs <base url> <requests> <connections> [seed]
// Prints one JSON line: { requests, seconds, rps, errors, statuses }.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

const [base, amountArg, connectionsArg, seedArg = '1'] = process.argv.slice(2);
const amount = Number(amountArg);
const connections = Math.min(Number(connectionsArg), amount);

let state = Number(seedArg) >>> 0;
// mulberry32: tiny and good enough to make URLs that never repeat in practice.
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const token = () => Math.floor(random() * 36 ** 8).toString(36);

function randomPath() {
  const r = random();
  if (r < 0.25) return `/users/${Math.floor(random() * 1e9)}`;
  if (r < 0.5) return `/users/${token()}`;
  const depth = 1 + Math.floor(random() * 3);
  let path = '';
  for (let i = 0; i < depth; i++) path += `/${token()}`;
  return path;
}

const start = performance.now();
let last = start;
const result = await new Promise((resolve, reject) => {
  const instance = autocannon(
    {
      url: base,
      connections,
      amount,
      requests: [
        {
          method: 'GET',
          setupRequest(req) {
            req.path = randomPath();
            return req;
          },
        },
      ],
    },
    (err, res) => (err ? reject(err) : resolve(res)),
  );
  // autocannon ends a fixed-amount run on its next 1 s sampling tick; the last response is the real end.
  instance.on('response', () => {
    last = performance.now();
  });
});
const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
const seconds = (last - start) / 1000;
process.stdout.write(
  `${JSON.stringify({ requests: result.requests.total, seconds, rps: result.requests.total / seconds, errors: result.errors + result.timeouts, statuses })}\n`,
);
