// Scrape cost: the default metrics filled with N route series (default 10,000), rendered by prom-http's
// exposition and, from the same observations, by prom-client's own metrics and `registry.metrics()`, in one
// run. Checks that both texts are byte-identical, then times repeated scrapes (median, min, max) and the
// event-loop delay each renderer causes.
//
//   node bench/scrape.mjs [--series 10000] [--scrapes 15] [--out bench/results/scrape.md]
import { writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PromHttp } from '@prom-http/core/internal';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string', default: '10000' },
    scrapes: { type: 'string', default: '15' },
    out: { type: 'string', default: new URL('./results/scrape.md', import.meta.url).pathname },
  },
});
const SERIES = Number(args.series);
const SCRAPES = Number(args.scrapes);

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
performance.now = () => clock;
const methods = ['GET', 'POST', 'PUT'];
for (let i = 0; i < SERIES; i++) {
  const req = { route: `/route/${i}/:id` };
  const method = methods[i % methods.length];
  const status = i % 10 === 0 ? 500 : 200;
  for (let k = 0; k < 3; k++) {
    const seconds = ((i * 7 + k * 13) % 1000) / 997;
    clock = 1000;
    const raw = new ServerResponse(new IncomingMessage(new Socket()));
    const record = engine.track(req, {}, raw, method, undefined, null);
    clock = 1000 + seconds * 1000;
    engine.finish(record, req, {}, status);
    const labels = { method, path: req.route, status: String(status) };
    hist.observe(labels, (clock - 1000) / 1000);
    total.inc(labels);
  }
}
performance.now = realNow;
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
const table = [
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
].join('\n');
console.log(table);
writeFileSync(args.out, table);
if (!identical) process.exitCode = 1;
