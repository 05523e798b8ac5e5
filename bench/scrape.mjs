// Scrape cost: the default metrics filled with N route series (default 10,000), rendered by prom-http's
// exposition and, from the same observations, by prom-client's own metrics and `registry.metrics()`, in one
// run. Checks that both texts are byte-identical, then times repeated scrapes (median, min, max) and the
// event-loop delay each renderer causes.
//
// Then the cost of the opt-in options at scrape time: the same observations recorded by prom-http with native
// histograms on, with exemplars on (the function form, one exemplar per request) and with both, each scraped in
// every format a scraper can ask for: the 0.0.4 text, OpenMetrics text (which carries exemplars) and the
// delimited protobuf (which carries native buckets and exemplars), with the bytes of each exposition.
//
//   node bench/scrape.mjs [--series 10000] [--scrapes 15] [--smoke] [--out bench/results]   (writes scrape.md and .json there)
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PromHttp } from '@prom-http/core/internal';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { positiveInt } from './lib/args.mjs';
import { resultsDir, writeResults } from './lib/results.mjs';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string', default: '10000' },
    scrapes: { type: 'string', default: '15' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const outDir = resultsDir(args);
const SERIES = args.smoke ? 300 : positiveInt(args, 'series');
const SCRAPES = args.smoke ? 3 : positiveInt(args, 'scrapes');

// prom-http, driven through its engine with a clock the benchmark sets, so that prom-client can be given
// exactly the same durations.
const ours = new Registry();
const engine = new PromHttp(
  { registry: ours, collectDefaultMetrics: false, seriesLimit: SERIES + 10 },
  { template: (req) => req.route, endpoint: (req) => req.route, url: (req) => req.route },
);
const theirs = new Registry();
const labelNames = ['method', 'path', 'status'];
const hist = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests in seconds',
  labelNames,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  registers: [theirs],
});
const total = new Counter({ name: 'http_request_total', help: 'Total number of HTTP requests', labelNames, registers: [theirs] });
new Counter({
  name: 'http_request_exceptions_total',
  help: 'Total number of HTTP requests which resulted in an exception',
  labelNames,
  registers: [theirs],
});
const progress = new Gauge({
  name: 'http_requests_in_progress',
  help: 'Number of HTTP requests in progress',
  labelNames: ['method'],
  registers: [theirs],
});
const info = new Gauge({
  name: 'exporter_info',
  help: 'Information about the Prometheus exporter',
  labelNames: ['version'],
  registers: [theirs],
});
info.set({ version: '0.1.0' }, 1);
new Counter({
  name: 'exporter_label_errors_total',
  help: 'Observations dropped because a label function threw or gave no label value',
  labelNames: ['metric'],
  registers: [theirs],
});

const realNow = performance.now.bind(performance);
let clock = 0;
const methods = ['GET', 'POST', 'PUT'];

/** The requests every engine records: three per route series, durations spread over 0–1 s. */
function* requests() {
  for (let i = 0; i < SERIES; i++) {
    const req = { route: `/route/${i}/:id`, traceId: (i * 3).toString(16).padStart(32, '0') };
    const method = methods[i % methods.length];
    const status = i % 10 === 0 ? 500 : 200;
    for (let k = 0; k < 3; k++) {
      req.spanId = (i * 3 + k).toString(16).padStart(16, '0');
      yield { req, method, status, seconds: ((i * 7 + k * 13) % 1000) / 997 };
    }
  }
}

/** Records one request in `e` through its start and finish, `seconds` long by the benchmark's clock. */
function record(e, { req, method, status, seconds }) {
  performance.now = () => clock;
  clock = 1000;
  const raw = new ServerResponse(new IncomingMessage(new Socket()));
  const r = e.track(req, {}, raw, method, undefined, null);
  clock = 1000 + seconds * 1000;
  e.finish(r, req, {}, status);
  performance.now = realNow;
}

for (const request of requests()) {
  record(engine, request);
  const labels = { method: request.method, path: request.req.route, status: String(request.status) };
  // The duration as prom-http computes it from the clock's two readings, to the last bit.
  hist.observe(labels, (1000 + request.seconds * 1000 - 1000) / 1000);
  total.inc(labels);
}
for (const method of methods) progress.set({ method }, 0);

const a = (await engine.generateMetrics()).body;
const b = await theirs.metrics();
const identical = a === b;
if (!identical) {
  const lines = [a.split('\n'), b.split('\n')];
  const at = lines[0].findIndex((l, i) => l !== lines[1][i]);
  console.error(`texts differ at line ${at}:\n  prom-http:   ${lines[0][at]}\n  prom-client: ${lines[1][at]}`);
}

async function time(render) {
  const times = [];
  const delay = monitorEventLoopDelay({ resolution: 1 });
  // A timer keeps the loop ticking so the monitor sees how long each scrape holds it.
  const ticker = setInterval(() => {}, 1);
  delay.enable();
  for (let i = 0; i < SCRAPES; i++) {
    const start = realNow();
    await render();
    times.push(realNow() - start);
    await new Promise((r) => setTimeout(r, 20));
  }
  delay.disable();
  clearInterval(ticker);
  times.sort((x, y) => x - y);
  return {
    median: times[Math.floor(times.length / 2)],
    min: times[0],
    max: times[times.length - 1],
    loopDelayMax: delay.max / 1e6,
    loopDelayP99: delay.percentile(99) / 1e6,
  };
}

// Interleave so that machine noise hits both alike.
// What each /metrics endpoint does besides socket I/O: prom-http answers a scrape with the exposition's bytes;
// a prom-client endpoint sends `await registry.metrics()`.
const scrapeRequest = { method: 'GET', url: '/metrics', accept: undefined, acceptEncoding: undefined };
const results = { ours: [], string: [], theirs: [] };
for (let round = 0; round < 3; round++) {
  results.ours.push(await time(() => engine.scrape(undefined, scrapeRequest)));
  results.string.push(await time(() => engine.generateMetrics()));
  results.theirs.push(await time(() => theirs.metrics()));
}
const pick = (runs) => runs.sort((x, y) => x.median - y.median)[Math.floor(runs.length / 2)];
const o = pick(results.ours);
const g = pick(results.string);
const t = pick(results.theirs);
const fmt = (n) => n.toFixed(1);
const comparison = [
  '# Scrape cost',
  '',
  '## prom-http and prom-client, the same series',
  '',
  `Scrape of ${SERIES} route series (${a.split('\n').length} exposition lines, ${(a.length / 1e6).toFixed(1)} MB), ${SCRAPES} scrapes × 3 interleaved rounds; median round shown.`,
  `Texts byte-identical: ${identical ? 'yes' : 'NO'}.`,
  '',
  '| renderer | median ms | min ms | max ms | event-loop delay max ms | p99 ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  `| prom-http scrape (what \`/metrics\` runs) | ${fmt(o.median)} | ${fmt(o.min)} | ${fmt(o.max)} | ${fmt(o.loopDelayMax)} | ${fmt(o.loopDelayP99)} |`,
  `| prom-http \`generateMetrics()\` (body as a string) | ${fmt(g.median)} | ${fmt(g.min)} | ${fmt(g.max)} | ${fmt(g.loopDelayMax)} | ${fmt(g.loopDelayP99)} |`,
  `| prom-client \`registry.metrics()\` | ${fmt(t.median)} | ${fmt(t.min)} | ${fmt(t.max)} | ${fmt(t.loopDelayMax)} | ${fmt(t.loopDelayP99)} |`,
  '',
  `prom-http's scrape is ${(t.median / o.median).toFixed(1)}× faster than prom-client's \`registry.metrics()\`; \`generateMetrics()\` ${(t.median / g.median).toFixed(1)}× (ratios of medians). Node ${process.version}.`,
  '',
];
console.log(comparison.join('\n'));

// The opt-in options: the same requests recorded by one engine per setting, each scraped in every format.
/** The exemplar of a request, as an app's exemplar function would read it from its trace context. */
function requestExemplar(req) {
  return { trace_id: req.traceId, span_id: req.spanId };
}
const SETTINGS = [
  { name: 'defaults', options: {} },
  { name: 'nativeHistograms', options: { nativeHistograms: true } },
  { name: 'exemplars', options: { exemplars: requestExemplar } },
  { name: 'both', options: { nativeHistograms: true, exemplars: requestExemplar } },
];
const FORMATS = [
  { name: 'text 0.0.4', accept: undefined },
  { name: 'OpenMetrics', accept: 'application/openmetrics-text; version=1.0.0' },
  { name: 'protobuf', accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited' },
];
const cases = [];
for (const setting of SETTINGS) {
  const e = new PromHttp(
    { registry: new Registry(), collectDefaultMetrics: false, seriesLimit: SERIES + 10, ...setting.options },
    { template: (req) => req.route, endpoint: (req) => req.route, url: (req) => req.route },
  );
  for (const request of requests()) record(e, request);
  for (const format of FORMATS) {
    const request = { ...scrapeRequest, accept: format.accept };
    const answer = await e.scrape(undefined, request);
    if (answer.status !== 200) throw new Error(`${setting.name}, ${format.name}: status ${answer.status}: ${answer.body}`);
    const body = answer.body;
    cases.push({
      setting: setting.name,
      format: format.name,
      contentType: answer.headers['content-type'],
      bytes: Buffer.byteLength(body),
      exemplars: format.name === 'protobuf' ? null : String(body).split(' # {').length - 1,
      scrape: () => e.scrape(undefined, request),
      runs: [],
    });
  }
}
// Interleaved rounds, as above: every case once per round.
for (let round = 0; round < 3; round++) {
  for (const c of cases) c.runs.push(await time(c.scrape));
}
const rows = cases.map(({ scrape, runs, ...c }) => ({ ...c, ...pick(runs) }));
for (const row of rows) row.timeRatio = row.median / rows.find((r) => r.setting === 'defaults' && r.format === row.format).median;
const mb = (n) => (n / 1e6).toFixed(2);
const options = [
  `## The opt-in options at scrape time`,
  '',
  `The same ${SERIES} route series (3 requests each) recorded by one prom-http instance per setting ("exemplars": the function form, an exemplar on every request), each scraped in every format; ${SCRAPES} scrapes × 3 interleaved rounds, median round shown. "× defaults": the time over the defaults' in the same format. Exemplars: the OpenMetrics text's count of them (the protobuf carries them too; the 0.0.4 text never does).`,
  '',
  '| setting | format | bytes | MB | exemplars | median ms | min ms | max ms | × defaults | event-loop delay max ms |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.setting} | ${r.format} | ${r.bytes} | ${mb(r.bytes)} | ${r.exemplars ?? '–'} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.timeRatio.toFixed(2)} | ${fmt(r.loopDelayMax)} |`,
  ),
  '',
];
console.log(options.join('\n'));
const written = writeResults(outDir, 'scrape', [...comparison, ...options].join('\n'), {
  series: SERIES,
  scrapes: SCRAPES,
  identical,
  comparison: { ours: o, generateMetrics: g, promClient: t },
  options: rows,
});
console.log(`written: ${written.join(', ')}`);
if (!identical || rows.some((r) => !(r.bytes > 0))) process.exitCode = 1;
