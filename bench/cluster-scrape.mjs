// Cluster scrape cost: prom-http's setupClusterPrimary against prom-client's AggregatorRegistry, on the same
// Express app in node:cluster workers, each worker holding `series` distinct route series of its own (groupBy
// 'url'; prom-client's side records the same families by the request URL), prom-client's process metrics on
// in both. The scrape goes to the primary's own port, as Prometheus would scrape a primary; the two clusters
// run side by side and are scraped in turn (the order swapped every round), so that machine noise hits both.
//
// For each point (workers x series per worker): the first scrape (prom-http's carries its sample tables
// whole), then the median and range of `--scrapes` more; the primary's and each worker's heap during a
// scrape (heap used, sampled every 5 ms from a collected baseline, and at the end of the scrape) and the
// primary's heap retained between scrapes. Both expositions are checked for every series.
//
//   node bench/cluster-scrape.mjs [--workers 2,4] [--series 1000,5000,10000] [--scrapes 5] [--smoke] [--out dir]
//
// --smoke: one small point, two scrapes, in seconds; writes to a temporary directory unless --out is given.
// Full runs write bench/results/cluster-scrape.{md,json}. Build first (`pnpm run build`): the apps load the builds.
import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resultsDir, writeResults } from './lib/results.mjs';
import { median } from './lib/stats.mjs';

const HOST = '127.0.0.1';
const LIBRARIES = ['prom-http', 'prom-client'];

// --- the measured apps --------------------------------------------------------------------------------

/** Heap used, at its highest since `start()`: sampled every 5 ms, and when read. */
function heapSampler() {
  let peak = 0;
  let timer = null;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  return {
    start() {
      globalThis.gc?.();
      peak = 0;
      sample();
      const baseline = peak;
      timer ??= setInterval(sample, 5);
      return baseline;
    },
    stop() {
      sample();
      clearInterval(timer);
      timer = null;
      return peak;
    },
  };
}

/** A control server outside the app (never instrumented): /start and /stop of the heap sampler. */
function listenControl() {
  const sampler = heapSampler();
  const server = createServer(function control(req, res) {
    const value = req.url === '/start' ? sampler.start() : sampler.stop();
    res.end(JSON.stringify(value));
  });
  return new Promise((resolve) => server.listen({ port: 0, host: HOST, exclusive: true }, () => resolve(server.address().port)));
}

async function runApp(library) {
  const workers = Number(process.env.BENCH_WORKERS);
  const series = Number(process.env.BENCH_SERIES);
  if (cluster.isPrimary) {
    let port;
    if (library === 'prom-http') {
      const { setupClusterPrimary } = await import('@prom-http/core');
      const { Registry } = await import('prom-client');
      // A timeout no point reaches: a worker left out would make the scrape cheaper, not faster.
      const primary = await setupClusterPrimary({ port: 0, host: HOST, timeout: 120_000, registry: new Registry() });
      port = primary.server.address().port;
    } else {
      const { AggregatorRegistry } = await import('prom-client');
      const aggregator = new AggregatorRegistry();
      const server = createServer(async function promClientScrape(_req, res) {
        try {
          const body = await aggregator.clusterMetrics();
          res.setHeader('content-type', aggregator.contentType);
          res.end(body);
        } catch (error) {
          res.statusCode = 500;
          res.end(String(error));
        }
      });
      port = await new Promise((resolve) => server.listen(0, HOST, () => resolve(server.address().port)));
    }
    const controls = [await listenControl()];
    let loaded = 0;
    for (let slot = 0; slot < workers; slot++) {
      const worker = cluster.fork({ BENCH_SLOT: String(slot) });
      worker.on('message', function onBenchMessage(message) {
        if (message?.bench !== 'loaded') return;
        controls.push(message.control);
        if (++loaded === workers) process.stdout.write(`${JSON.stringify({ event: 'ready', port, controls })}\n`);
      });
    }
    return;
  }

  const slot = Number(process.env.BENCH_SLOT);
  const { default: express } = await import('express');
  const app = express();
  if (library === 'prom-http') {
    const { metrics } = await import('@prom-http/express');
    app.use(metrics({ cluster: true, groupBy: 'url', seriesLimit: series + 100 }));
  } else {
    app.use(await promClientMiddleware());
  }
  app.get('/:worker/items/:id', (req, res) => res.json({ id: req.params.id }));
  const port = await new Promise((resolve) => {
    const server = app.listen({ port: 0, host: HOST, exclusive: true }, () => resolve(server.address().port));
  });
  await load(port, series, (i) => `/w${slot}/items/${i}`);
  process.send({ bench: 'loaded', control: await listenControl() });
}

/** prom-client by hand, the way its README shows a request histogram: the same families as prom-http's. */
async function promClientMiddleware() {
  const { default: promClient } = await import('prom-client');
  // Its constructor is what makes a worker answer the primary's AggregatorRegistry.
  new promClient.AggregatorRegistry();
  promClient.collectDefaultMetrics();
  const labelNames = ['method', 'path', 'status'];
  const duration = new promClient.Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  });
  const total = new promClient.Counter({ name: 'http_request_total', help: 'Total number of HTTP requests', labelNames });
  const inProgress = new promClient.Gauge({
    name: 'http_requests_in_progress',
    help: 'Number of HTTP requests in progress',
    labelNames: ['method'],
  });
  return function promClientMetrics(req, res, next) {
    const start = performance.now();
    inProgress.inc({ method: req.method });
    res.on('finish', function recordRequest() {
      const labels = { method: req.method, path: req.originalUrl, status: String(res.statusCode) };
      duration.observe(labels, (performance.now() - start) / 1000);
      total.inc(labels);
      inProgress.dec({ method: req.method });
    });
    next();
  };
}

/** GETs `n` paths of the app, 8 at a time. */
async function load(port, n, path) {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let next = 0;
  async function lane() {
    while (next < n) {
      const i = next++;
      await new Promise((resolve, reject) => {
        httpRequest({ host: HOST, port, path: path(i), agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
          .on('error', reject)
          .end();
      });
    }
  }
  await Promise.all(Array.from({ length: 8 }, lane));
  agent.destroy();
}

// --- the harness ------------------------------------------------------------------------------------

function list(value, name) {
  const items = value.split(',').map(Number);
  if (items.length === 0 || items.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`--${name} must be a comma-separated list of positive integers, not ${value}`);
  }
  return items;
}

/** One cluster app, in its own process group so that its workers go with it. */
async function startApp(library, workers, series) {
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_CLUSTER_LIBRARY: library, BENCH_WORKERS: String(workers), BENCH_SERIES: String(series) },
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  running.add(stop);
  const ready = await new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the ${library} cluster exited (${code}) before it was ready`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line));
    });
  });
  return {
    ...ready,
    stop() {
      stop();
      running.delete(stop);
    },
  };
}

const running = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const stop of running) stop();
    process.exit(1);
  });
}

async function control(port, what) {
  const response = await fetch(`http://${HOST}:${port}/${what}`);
  return Number(await response.text());
}

/** One scrape of the primary's port, with every process's heap over it. */
async function scrape(app) {
  const baselines = await Promise.all(app.controls.map((port) => control(port, 'start')));
  const start = performance.now();
  const response = await fetch(`http://${HOST}:${app.port}/metrics`);
  const body = await response.text();
  const ms = performance.now() - start;
  const peaks = await Promise.all(app.controls.map((port) => control(port, 'stop')));
  // prom-client's AggregatorRegistry gives up after 5 s: such a scrape is counted as failed, not timed.
  const failed = response.status === 200 ? null : `${response.status} ${body.slice(0, 100)}`;
  return { ms, body, failed, primaryBaseline: baselines[0], primaryPeak: peaks[0], workerPeaks: peaks.slice(1) };
}

/** Every worker's series are in the sum, each with the count of one request. */
function check(library, body, workers, series) {
  let lines = 0;
  for (let at = body.indexOf('\nhttp_request_total{'); at !== -1; at = body.indexOf('\nhttp_request_total{', at + 1)) lines++;
  if (lines !== workers * series) throw new Error(`${library}: ${lines} http_request_total series, expected ${workers * series}`);
}

// NaN: no scrape of that library succeeded at that point.
const mb = (bytes) => (Number.isNaN(bytes) ? '–' : `${(bytes / 2 ** 20).toFixed(0)} MB`);
const ms = (x) => (Number.isNaN(x) ? 'failed' : `${x.toFixed(0)} ms`);

async function main() {
  const { values: args } = parseArgs({
    options: {
      workers: { type: 'string', default: '2,4' },
      series: { type: 'string', default: '1000,5000,10000' },
      scrapes: { type: 'string', default: '5' },
      smoke: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const workerCounts = args.smoke ? [2] : list(args.workers, 'workers');
  const seriesCounts = args.smoke ? [200] : list(args.series, 'series');
  const scrapes = args.smoke ? 2 : list(args.scrapes, 'scrapes')[0];

  const points = [];
  for (const workers of workerCounts) {
    for (const series of seriesCounts) {
      const apps = {};
      try {
        for (const library of LIBRARIES) apps[library] = await startApp(library, workers, series);
        const runs = Object.fromEntries(LIBRARIES.map((l) => [l, []]));
        const first = {};
        for (const library of LIBRARIES) {
          const run = await scrape(apps[library]);
          if (run.failed === null) check(library, run.body, workers, series);
          first[library] = { ms: run.ms, bytes: run.failed === null ? Buffer.byteLength(run.body) : Number.NaN, failed: run.failed };
        }
        for (let round = 0; round < scrapes; round++) {
          const order = round % 2 === 0 ? LIBRARIES : [...LIBRARIES].reverse();
          for (const library of order) {
            const { body: _body, ...run } = await scrape(apps[library]);
            runs[library].push(run);
          }
        }
        const point = { workers, series, libraries: {} };
        for (const library of LIBRARIES) {
          const failed = runs[library].filter((x) => x.failed !== null);
          for (const x of failed) console.error(`${library}, ${workers} x ${series}: a scrape failed: ${x.failed}`);
          const r = runs[library].filter((x) => x.failed === null);
          const times = r.map((x) => x.ms);
          point.libraries[library] = {
            failed: failed.length,
            bytes: first[library].bytes,
            firstMs: first[library].failed === null ? first[library].ms : Number.NaN,
            medianMs: median(times),
            minMs: Math.min(...times),
            maxMs: Math.max(...times),
            primaryHeapPeak: median(r.map((x) => x.primaryPeak)),
            primaryHeapRetained: median(r.map((x) => x.primaryBaseline)),
            workerHeapPeak: median(r.map((x) => Math.max(...x.workerPeaks))),
            times,
          };
        }
        points.push(point);
        const [ours, theirs] = LIBRARIES.map((l) => point.libraries[l]);
        console.log(
          `${workers} x ${series}: prom-http ${ms(ours.medianMs)} (heap ${mb(ours.primaryHeapPeak)}), prom-client ${ms(theirs.medianMs)} (heap ${mb(theirs.primaryHeapPeak)}), ${(theirs.medianMs / ours.medianMs).toFixed(1)}x`,
        );
      } finally {
        for (const app of Object.values(apps)) app.stop();
      }
    }
  }

  const scrapeCell = (x) =>
    x.times.length === 0
      ? `all ${x.failed} failed`
      : `${ms(x.medianMs)} (${ms(x.minMs)}–${ms(x.maxMs)})${x.failed > 0 ? `, ${x.failed} failed` : ''}`;
  const rows = points.map(({ workers, series, libraries }) => {
    const o = libraries['prom-http'];
    const t = libraries['prom-client'];
    return `| ${workers} x ${series.toLocaleString('en')} | ${(o.bytes / 1e6).toFixed(1)} MB | ${scrapeCell(o)} | ${ms(o.firstMs)} | ${mb(o.primaryHeapPeak)} / ${mb(o.primaryHeapRetained)} | ${mb(o.workerHeapPeak)} | ${scrapeCell(t)} | ${ms(t.firstMs)} | ${mb(t.primaryHeapPeak)} / ${mb(t.primaryHeapRetained)} | ${mb(t.workerHeapPeak)} | ${Number.isNaN(t.medianMs / o.medianMs) ? '–' : `${(t.medianMs / o.medianMs).toFixed(1)}x`} |`;
  });
  const md = `# Cluster scrape: prom-http vs prom-client AggregatorRegistry

Express workers, groupBy 'url' with \`series\` distinct route series per worker (each worker its own), process
metrics on; scrapes of the primary's own port, the two clusters scraped in turn. Scrape: median (range) of ${scrapes}
after the first, which is shown apart (prom-http's first carries its sample tables whole). Heap: heap used in the
primary during a scrape (sampled every 5 ms from a collected baseline) / retained between scrapes; worker: the
highest of the workers' during a scrape. \`node bench/cluster-scrape.mjs${args.smoke ? ' --smoke' : ''}\`, Node ${process.version}.

| workers x series | exposition | prom-http scrape | first | primary heap | worker heap | AggregatorRegistry scrape | first | primary heap | worker heap | speed-up |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
  const written = writeResults(resultsDir(args), 'cluster-scrape', md, { scrapes, points });
  console.log(`wrote ${written.join(' and ')}`);
}

// The same script is the harness and, in its children, the measured cluster apps.
const library = process.env.BENCH_CLUSTER_LIBRARY;
if (library !== undefined) await runApp(library);
else await main();
