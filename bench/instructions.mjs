// Instructions per request: the apps of run.mjs, each in its own server process under Valgrind's callgrind,
// which counts every instruction the server executes in user space (JavaScript, V8, Node, libc; not the kernel)
// and, with simulated caches like this CPU's, its misses of the L1 instruction and data caches. Req/s on this
// shared machine swings with other tenants, clocks and caches, so a cost of 1-2% is below what even many rounds
// of run.mjs resolve; these counts do not swing with any of that. They are not throughput (no kernel, no
// stalls but the simulated ones), but they are the work each library adds to a request, told apart to a
// fraction of a percent, for every library in the same run.
//
//   node bench/instructions.mjs [--warmup 50000] [--requests 10000] [--connections 8] [--parallel 2] [--only a,b]
//                               [--cache-sim yes|no] [--smoke] [--out bench/results]   (writes instructions.md and .json there)
//                               [--baseline DIR]   (a checkout of prom-http with its packages built, for the
//                                                   `*-prom-http-baseline` rows: two versions in one run)
//                               [--keep DIR]   (keeps callgrind's dumps there, one per variant and thread, with
//                                               the JIT's symbol maps: `callgrind_annotate DIR/<variant>.out.1-01`)
//
// Each server is warmed up with --warmup requests (not counted: V8 compiles the hot code then), then callgrind
// counts while --requests more are served, from a client in this process (keep-alive, --connections at once;
// every batch fully answered before counting starts and stops). "main thread" is the thread that runs
// JavaScript; "all threads" adds V8's background threads (optimizing compiler, concurrent GC), whose work
// depends on timing. Valgrind runs the server some 50 times slower than usual, so work done per second
// (prom-client's event-loop-delay timer, every 10 ms) weighs far more per request here than in a real run.
// The control rows (the bare app again, another process) show how far two counts of one app differ.
// Needs valgrind (Debian: apt-get install valgrind).
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path, { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { recordsRoute } from './lib/exposition.mjs';
import { resultsDir, writeResults } from './lib/results.mjs';
import { getText, startApp } from './lib/server.mjs';
import { envOf, headersOf, kindOf, rowLabel, select } from './lib/variants.mjs';

const { values: args } = parseArgs({
  options: {
    warmup: { type: 'string', default: '50000' },
    'cache-sim': { type: 'string', default: 'yes' },
    requests: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '8' },
    parallel: { type: 'string', default: '2' },
    only: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    keep: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const outDir = resultsDir(args);

const warmup = args.smoke ? 300 : positiveInt(args, 'warmup');
const requests = args.smoke ? 200 : positiveInt(args, 'requests');
const connections = positiveInt(args, 'connections');
const parallel = positiveInt(args, 'parallel');
if (!['yes', 'no'].includes(args['cache-sim'])) throw new Error(`--cache-sim must be yes or no, not ${args['cache-sim']}`);
const cacheSim = args['cache-sim'] === 'yes';
const baselineDir = args.baseline ? path.resolve(args.baseline) : undefined;
const variants = select(args.only, baselineDir);
// What any variant needs on every request (the exemplars rows' traceparent), sent to all of them alike.
const headers = headersOf(variants);
let valgrind;
try {
  valgrind = execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
} catch {
  throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
}

const log = (s) => process.stderr.write(`${s}\n`);
const control = promisify(execFile);
const work = args.keep ?? mkdtempSync(join(os.tmpdir(), 'prom-http-instructions-'));
if (args.keep) mkdirSync(work, { recursive: true });
else process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** `count` GET /users/42 from `connections` keep-alive connections, each waiting for its answer; the statuses. */
async function send(port, agent, count) {
  let left = count;
  let ok = 0;
  let failed = 0;
  const one = () =>
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/users/42', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', () => resolve(0));
    });
  async function connection() {
    while (left > 0) {
      left--;
      if ((await one()) === 200) ok++;
      else failed++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(connections, count) }, connection));
  return { ok, failed };
}

/** The totals of a callgrind output file, by event: `Ir` (instructions), `I1mr` (L1 instruction-cache misses), … */
function totalsIn(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const events = lines.find((line) => line.startsWith('events:'));
  const totals = lines.find((line) => line.startsWith('totals:'));
  if (events === undefined || totals === undefined) throw new Error(`${file}: no events or totals line`);
  const names = events.split(/\s+/).slice(1);
  const values = totals.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((name, i) => [name, values[i] ?? 0]));
}

async function count(variant) {
  const prefix = join(work, variant.name);
  const server = await startApp(variant.app, {
    timeoutMs: 300_000,
    env: envOf(variant, baselineDir),
    // With --keep, V8 writes where its machine code lives (/tmp/perf-<pid>.map), to name JIT code in the dumps.
    execArgv: args.keep ? ['--perf-basic-prof', `--logfile=${prefix}.v8.log`] : [],
    launcher: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      '--separate-threads=yes',
      // Simulated L1 caches, sized as valgrind reads this CPU's (32 KB instructions, 48 KB data): their misses.
      `--cache-sim=${cacheSim ? 'yes' : 'no'}`,
      // V8 writes machine code at run time: Valgrind must see every change to it.
      '--smc-check=all-non-file',
      `--callgrind-out-file=${prefix}.out`,
    ],
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const pid = String(server.child.pid);
  try {
    const warm = await send(server.port, agent, warmup);
    await control('callgrind_control', ['--instr=on', pid]);
    const counted = await send(server.port, agent, requests);
    await control('callgrind_control', ['--instr=off', pid]);
    await control('callgrind_control', ['--dump', pid]);
    // The dump of the counted part: one file per thread, `<prefix>.out.1-<thread>`; thread 01 runs JavaScript.
    const files = readdirSync(work).filter((f) => f.startsWith(`${variant.name}.out.1-`));
    if (args.keep) copyFileSync(`/tmp/perf-${pid}.map`, `${prefix}.perf.map`);
    const main = files.find((f) => f.endsWith('-01'));
    if (main === undefined) throw new Error(`${variant.name}: callgrind wrote no dump (${files.join(', ')})`);
    const mainTotals = totalsIn(join(work, main));
    const allIr = files.reduce((sum, f) => sum + totalsIn(join(work, f)).Ir, 0);
    let recorded = null;
    if (variant.route) {
      const { status, body } = await getText(`${server.url}/metrics`);
      recorded = status === 200 && recordsRoute(body, variant.route);
    }
    return {
      variant: variant.name,
      framework: variant.framework,
      app: variant.app,
      kind: kindOf(variant),
      requests: counted.ok,
      errors: warm.failed + counted.failed,
      mainPerRequest: mainTotals.Ir / counted.ok,
      icacheMissesPerRequest: cacheSim ? mainTotals.I1mr / counted.ok : null,
      dcacheMissesPerRequest: cacheSim ? (mainTotals.D1mr + mainTotals.D1mw) / counted.ok : null,
      allPerRequest: allIr / counted.ok,
      threads: files.length,
      recorded,
    };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

log(
  `${variants.length} variants under callgrind, ${parallel} at a time: ${warmup} requests of warm-up, then ${requests} counted, ${connections} connections`,
);
const started = Date.now();
const results = [];
for (let i = 0; i < variants.length; i += parallel) {
  const batch = variants.slice(i, i + parallel);
  for (const r of await Promise.all(batch.map(count))) {
    const misses = r.icacheMissesPerRequest === null ? '' : `, ${Math.round(r.icacheMissesPerRequest)} instruction-cache misses`;
    log(
      `${r.variant.padEnd(26)} ${Math.round(r.mainPerRequest).toString().padStart(9)} instructions/request (main thread${misses}), ${Math.round(r.allPerRequest)} (all threads)`,
    );
    results.push(r);
  }
}
const elapsed = (Date.now() - started) / 1000;

const rows = results.map((r) => {
  const bare = results.find((b) => b.kind === 'bare' && b.framework === r.framework);
  const ratio = (key) => (bare && r[key] !== null ? r[key] / bare[key] : null);
  return {
    ...r,
    mainRatio: ratio('mainPerRequest'),
    icacheRatio: ratio('icacheMissesPerRequest'),
    dcacheRatio: ratio('dcacheMissesPerRequest'),
    allRatio: ratio('allPerRequest'),
  };
});
const f0 = (n) => (n === null ? '–' : Math.round(n).toLocaleString('en-US'));
const f3 = (n) => (n === null ? '–' : n.toFixed(3));
const md = [
  '# Instructions per request: GET /users/:id, bare framework vs. metrics libraries',
  '',
  `Every server in its own process under ${valgrind} (callgrind), warmed up with ${warmup} requests, then counted over ${requests} requests from ${connections} keep-alive connections. "main thread" runs the JavaScript; "all threads" adds V8's background threads (optimizing compiler, concurrent GC). "I-cache misses": misses of a simulated 32 KB L1 instruction cache on the main thread, "D-cache misses" of its 48 KB L1 data cache (reads and writes)${cacheSim ? '' : ' (neither simulated in this run)'}. "× bare" is the count over the bare framework's. Control rows are the bare app again, in another process.`,
  `Node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'}); ${Math.round(elapsed)} s in all. ${new Date().toISOString()}.`,
  ...(baselineDir ? [`Baseline rows: prom-http built in ${baselineDir}.`] : []),
  ...Object.entries(headers).map(([name, value]) => `Every request of every variant carries \`${name}: ${value}\`.`),
  '',
  '| variant | framework | instructions/request, main thread | × bare | I-cache misses/request | × bare | D-cache misses/request | × bare | instructions/request, all threads | × bare | requests counted | errors | recorded |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map(
    (r) =>
      `| ${rowLabel(r)} | ${r.framework} | ${f0(r.mainPerRequest)} | ${f3(r.mainRatio)} | ${f0(r.icacheMissesPerRequest)} | ${f3(r.icacheRatio)} | ${f0(r.dcacheMissesPerRequest)} | ${f3(r.dcacheRatio)} | ${f0(r.allPerRequest)} | ${f3(r.allRatio)} | ${r.requests} | ${r.errors} | ${r.recorded === null ? '–' : r.recorded ? 'yes' : 'NO'} |`,
  ),
  '',
].join('\n');
process.stdout.write(md);
const written = writeResults(outDir, 'instructions', md, { valgrind, cacheSim, warmup, requests, connections, elapsed, rows });
log(`written: ${written.join(', ')}`);
