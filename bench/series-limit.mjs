// seriesLimit under attack, in one process and without a network: real Node request and response objects
// go through the engine's start (`track`) and the finish Node publishes, as in request-path.mjs, for
// `--paths` distinct URLs x every HTTP method Node parses (each path and method with one of three statuses),
// with `groupBy: 'url'` and a per-request default label of random value: every request asks for a new
// series. Three rounds of fresh values; after each, the series per default metric, the heap used after a
// forced GC, and one scrape. With series bounded, later rounds add nothing: the heap stays where it was.
//
//   node --expose-gc bench/series-limit.mjs [--paths 10000] [--limit 10000] [--core path/to/dist/internal.js]
//                                          [--smoke] [--out dir]
// `--core`: the build of @prom-http/core to measure (default: this workspace's), e.g. an older one: its
// dist/internal.js, or dist/index.js for a release from before the engine moved to the internal entry.
import { channel } from 'node:diagnostics_channel';
import { IncomingMessage, METHODS, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { resultsDir, writeResults } from './lib/results.mjs';

const { values: args } = parseArgs({
  options: {
    paths: { type: 'string', default: '10000' },
    limit: { type: 'string', default: '10000' },
    core: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const paths = args.smoke ? 50 : positiveInt(args, 'paths');
const limit = args.smoke ? 100 : positiveInt(args, 'limit');
const { PromHttp } = await import(args.core ? pathToFileURL(resolve(args.core)).href : '@prom-http/core/internal');

const STATUSES = [200, 404, 500];
const MB = 2 ** 20;
const finished = channel('http.server.response.finish');
const server = new Server();
const socket = new Socket();
socket.server = server;

// The default registry of the core under test (an older build may resolve its own prom-client).
const engine = new PromHttp(
  {
    groupBy: 'url',
    seriesLimit: limit,
    collectDefaultMetrics: false,
    defaultLabels: { app: 'shop', tenant: () => Math.random().toString(36).slice(2) },
  },
  { template: () => undefined, endpoint: () => undefined, url: (req) => req.url },
);

function attack(round) {
  let requests = 0;
  for (let p = 0; p < paths; p++) {
    for (let m = 0; m < METHODS.length; m++) {
      const method = METHODS[m];
      const req = new IncomingMessage(socket);
      req.method = method;
      req.url = `/r${round}/p${p}`;
      const res = new ServerResponse(req);
      res.statusCode = STATUSES[(p + m) % STATUSES.length];
      engine.track(req, res, res, method, req.url, socket);
      finished.publish({ request: req, response: res, socket, server });
      requests++;
    }
  }
  return requests;
}

function heapUsedMB() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed / MB;
}

/** Occurrences of `needle` in `text` (String.split would have V8 cache the pieces of a 20 MB scrape). */
function count(text, needle) {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) n++;
  return n;
}

async function measure(label, requests, seconds) {
  const heap = heapUsedMB();
  const start = performance.now();
  const { body } = await engine.generateMetrics();
  const scrapeMs = performance.now() - start;
  const counts = {
    http_request_total: count(body, '\nhttp_request_total{'),
    http_request_duration_seconds_count: count(body, '\nhttp_request_duration_seconds_count{'),
  };
  const row = {
    label,
    requests,
    seconds,
    heapUsedMB: heap,
    series: counts.http_request_total ?? 0,
    durationSeries: counts.http_request_duration_seconds_count ?? 0,
    scrapeKB: Buffer.byteLength(body) / 1024,
    scrapeMs,
  };
  console.error(
    `${label}: ${requests} requests in ${seconds.toFixed(1)} s, heap ${heap.toFixed(1)} MB, ${row.series} series of http_request_total, scrape ${row.scrapeKB.toFixed(0)} KB in ${scrapeMs.toFixed(0)} ms`,
  );
  return row;
}

const rows = [await measure('before', 0, 0)];
let total = 0;
for (const round of [1, 2, 3]) {
  const start = performance.now();
  total += attack(round);
  rows.push(await measure(`after round ${round}`, total, (performance.now() - start) / 1000));
}

const f1 = (n) => n.toFixed(1);
const md = [
  '# seriesLimit under attack',
  '',
  `\`node --expose-gc bench/series-limit.mjs --paths ${paths} --limit ${limit}${args.core ? ` --core ${args.core}` : ''}\`: one process, no network. Each round: ${paths} new URLs x ${METHODS.length} methods, status 200, 404 or 500 by path and method, \`groupBy: 'url'\`, \`defaultLabels: { app: 'shop', tenant: () => random }\`, \`seriesLimit: ${limit}\`. Heap used after a forced GC; one scrape after each round. Node ${process.version}, ${new Date().toISOString()}.`,
  '',
  '| after | requests | seconds | heap used MB | http_request_total series | duration histogram series | /metrics KB | scrape ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.label} | ${r.requests} | ${f1(r.seconds)} | ${f1(r.heapUsedMB)} | ${r.series} | ${r.durationSeries} | ${f1(r.scrapeKB)} | ${f1(r.scrapeMs)} |`,
  ),
  '',
].join('\n');
console.log(md);
if (total > 0) {
  const [mdPath] = writeResults(resultsDir(args), args.core ? 'series-limit-other-core' : 'series-limit', md, { paths, limit, rows });
  console.error(`wrote ${mdPath}`);
}
