// Hostile traffic: a server with the default metrics takes N requests to URLs that never repeat (random
// /users/:id values and random unmatched paths, see lib/hostile-load.mjs). Then: how many series each HTTP
// metric has, how large and how slow a scrape is, and how much heap the process retains (after a forced GC)
// before and after. With bounded route labels the series count stays small whatever N is.
//
//   node bench/hostile.mjs [--requests 1000000] [--connections 50] [--only a,b]
//                          [--peers] [--peer-requests 100000] [--out bench/results]
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { labelValues, seriesPerName } from './lib/exposition.mjs';
import { resultsDir, writeResults } from './lib/results.mjs';
import { getJson, getText, startApp } from './lib/server.mjs';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    peers: { type: 'boolean', default: false },
    'peer-requests': { type: 'string', default: '100000' },
    out: { type: 'string' },
    'md-name': { type: 'string', default: 'hostile' },
  },
});
const outDir = resultsDir(args);

// `counter` and `label`: where each library keeps one series per route label value per status, to list the
// values it ended up with. The bare apps are the baseline for heap and RSS.
const VARIANTS = [
  { name: 'express-bare', bare: true },
  { name: 'fastify-bare', bare: true },
  { name: 'express-prom-http', ours: true, counter: 'http_request_total', label: 'path' },
  { name: 'fastify-prom-http', ours: true, counter: 'http_request_total', label: 'path' },
  { name: 'express-prom-bundle', counter: 'http_request_duration_seconds_count', label: 'path' },
  { name: 'express-promster', counter: 'http_requests_total', label: 'path' },
  { name: 'fastify-metrics', counter: 'http_request_duration_seconds_count', label: 'route' },
  { name: 'fastify-promster', counter: 'http_requests_total', label: 'path' },
];

const requests = positiveInt(args, 'requests');
const peerRequests = Math.min(positiveInt(args, 'peer-requests'), requests);
const connections = positiveInt(args, 'connections');
const only = args.only ? new Set(args.only.split(',').map((s) => s.trim())) : null;
for (const name of only ?? []) if (!VARIANTS.some((v) => v.name === name)) throw new Error(`unknown variant ${name}`);
const variants = VARIANTS.filter((v) => (only ? only.has(v.name) : v.bare || v.ours || args.peers));

const log = (s) => process.stderr.write(`${s}\n`);
const HOSTILE_LOAD = new URL('./lib/hostile-load.mjs', import.meta.url).pathname;
const MB = 2 ** 20;

function hostileLoad(url, amount) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [HOSTILE_LOAD, url, String(amount), String(connections)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`hostile load: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

async function scrape(url) {
  const start = performance.now();
  const { status, body } = await getText(`${url}/metrics`);
  const ms = performance.now() - start;
  if (status !== 200) throw new Error(`GET /metrics: ${status}`);
  return { ms, body };
}

// Process and Node.js metrics are the same for every library and unrelated to traffic.
const httpSeries = (counts) => Object.fromEntries(Object.entries(counts).filter(([name]) => !/^(process|nodejs)_/.test(name)));
const sum = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);

async function measure(variant) {
  const amount = variant.ours || variant.bare ? requests : peerRequests;
  const server = await startApp(variant.name);
  try {
    const before = await getJson(`${server.url}/__heap`);
    const seriesBefore = variant.bare ? {} : httpSeries(seriesPerName((await scrape(server.url)).body));
    log(`${variant.name}: ${amount} hostile requests…`);
    const load = await hostileLoad(server.url, amount);
    const after = await getJson(`${server.url}/__heap`);
    // The first scrape after the load pays for compiling the exposition code; the median of three is the steady cost.
    const scrapes = [];
    for (let i = 0; i < (variant.bare ? 0 : 3); i++) scrapes.push(await scrape(server.url));
    const body = scrapes[2]?.body ?? '';
    const scrapeMs = variant.bare ? null : scrapes.map((s) => s.ms).sort((a, b) => a - b)[1];
    const series = httpSeries(seriesPerName(body));
    const values = variant.bare ? [] : [...labelValues(body, variant.counter, variant.label)];
    const result = {
      variant: variant.name,
      requests: amount,
      load,
      heapUsedMB: { before: before.heapUsed / MB, after: after.heapUsed / MB },
      rssMB: { before: before.rss / MB, after: after.rss / MB },
      seriesBefore,
      series,
      httpSeries: sum(series),
      counter: variant.counter,
      label: variant.label,
      labelValueCount: values.length,
      labelValues: values.slice(0, 20),
      scrapeBytes: Buffer.byteLength(body),
      scrapeMs,
    };
    const metrics = variant.bare
      ? ''
      : `, ${result.httpSeries} HTTP series, ${values.length} ${variant.label} values, scrape ${scrapeMs.toFixed(1)} ms`;
    log(
      `${variant.name}: ${load.rps.toFixed(0)} req/s, heap ${result.heapUsedMB.before.toFixed(1)} → ${result.heapUsedMB.after.toFixed(1)} MB${metrics}`,
    );
    return result;
  } finally {
    await server.stop();
  }
}

const results = [];
for (const variant of variants) results.push(await measure(variant));

const f1 = (n) => n.toFixed(1);
const md = [
  '# Hostile traffic: series and memory',
  '',
  `Each variant: a fresh server process (\`node --expose-gc\`), then N keep-alive GET requests (${connections} connections, autocannon in its own process) to URLs that never repeat: a quarter \`/users/<random number>\`, a quarter \`/users/<random slug>\`, half random paths of 1–3 random segments that no route matches. Heap and RSS from \`process.memoryUsage()\` right after a forced GC, before and after. "HTTP series": sample lines in /metrics other than \`process_*\` and \`nodejs_*\`. Scrape: median of three GET /metrics after the load. Node ${process.version}, ${new Date().toISOString()}.`,
  '',
  '| variant | requests | req/s | route label values | HTTP series | heap used MB before → after | RSS MB before → after | /metrics KB | scrape ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.variant} | ${r.requests} | ${r.load.rps.toFixed(0)} | ${r.counter ? `${r.labelValueCount} (\`${r.label}\` of \`${r.counter}\`)` : '–'} | ${r.counter ? r.httpSeries : '–'} | ${f1(r.heapUsedMB.before)} → ${f1(r.heapUsedMB.after)} | ${f1(r.rssMB.before)} → ${f1(r.rssMB.after)} | ${r.counter ? f1(r.scrapeBytes / 1024) : '–'} | ${r.counter ? f1(r.scrapeMs) : '–'} |`,
  ),
  '',
  '## Series per metric after the load',
  '',
  ...results
    .filter((r) => r.counter)
    .flatMap((r) => [
      `### ${r.variant}`,
      '',
      `Responses: ${Object.entries(r.load.statuses)
        .map(([code, n]) => `${n} × ${code}`)
        .join(
          ', ',
        )}${r.load.errors ? `; ${r.load.errors} errors` : ''}. \`${r.label}\` values${r.labelValueCount > 20 ? ' (first 20)' : ''}: ${r.labelValues.map((v) => `\`${v}\``).join(', ')}`,
      '',
      '| sample name | series before | after |',
      '| --- | ---: | ---: |',
      ...Object.entries(r.series).map(([name, n]) => `| \`${name}\` | ${r.seriesBefore[name] ?? 0} | ${n} |`),
      '',
    ]),
].join('\n');

console.log(md);
writeResults(outDir, args['md-name'], md, { connections, results });
