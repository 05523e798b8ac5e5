// Garbage collection per request: the apps of run.mjs, each in a fresh process with V8's --trace-gc-nvp, under
// load from wrk (or autocannon) in another process, one at a time and in turn (A B C ... A B C ...). Over each
// measured window it sums what V8 reports of every collection: how many scavenges (young generation) and
// mark-compacts (whole heap), their pauses on the JavaScript thread, and the bytes scavenges promoted to the old
// generation, per request; and the server's CPU time per request from /proc, to show GC's share of it.
// Req/s cannot tell a library that makes the framework's collections dearer from one that runs slower code;
// these counts can.
//
//   node bench/gc.mjs [--rounds 8] [--duration 6] [--warmup 4] [--connections 50] [--only a,b] [--tool wrk|autocannon]
//                     [--pin auto|on|off] [--smoke] [--out DIR]   (writes gc.md and gc.json to DIR;
//                     by default bench/results, a --smoke run a temporary directory)
//
// "pause" is the collection's time on the JavaScript thread (its helper threads work alongside it); concurrent
// marking between mark-compacts runs on other threads and is not in it. Medians over the rounds.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { nonNegativeInt, positiveInt } from './lib/args.mjs';
import { parseTraceLine, sumCollections } from './lib/gc-trace.mjs';
import { defaultTool, load } from './lib/load.mjs';
import { resultsDir, writeResults } from './lib/results.mjs';
import { cpuPlan, cpuSeconds, startApp } from './lib/server.mjs';
import { median } from './lib/stats.mjs';
import { headersOf, kindOf, rowLabel, select } from './lib/variants.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    duration: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    tool: { type: 'string' },
    pin: { type: 'string', default: 'auto' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const outDir = resultsDir(args);

const rounds = args.smoke ? 1 : positiveInt(args, 'rounds');
const duration = args.smoke ? 1 : positiveInt(args, 'duration');
const warmup = args.smoke ? 1 : nonNegativeInt(args, 'warmup');
const connections = positiveInt(args, 'connections');
const tool = args.tool ?? defaultTool();
if (tool !== 'wrk' && tool !== 'autocannon') throw new Error(`--tool must be wrk or autocannon, not ${tool}`);
if (!['auto', 'on', 'off'].includes(args.pin)) throw new Error(`--pin must be auto, on or off, not ${args.pin}`);
const cpus = cpuPlan(args.pin);
const variants = select(args.only);
// What any variant needs on every request (the exemplars rows' traceparent), sent to all of them alike.
const headers = headersOf(variants);
const log = (s) => process.stderr.write(`${s}\n`);

async function measure(variant) {
  let events = null;
  const server = await startApp(variant.app, {
    cpus: cpus?.server,
    execArgv: ['--trace-gc-nvp'],
    onTrace(line) {
      const e = events === null ? null : parseTraceLine(line);
      if (e !== null) events.push(e);
    },
  });
  const url = `${server.url}/users/42`;
  try {
    if (warmup > 0) await load({ tool, url, connections, duration: warmup, cpus: cpus?.load, headers });
    events = [];
    const cpuBefore = cpuSeconds(server.child.pid);
    const r = await load({ tool, url, connections, duration, cpus: cpus?.load, headers });
    const cpuAfter = cpuSeconds(server.child.pid);
    // A collection's trace line comes after it ends: give the last one of the window time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const s = sumCollections(events);
    events = null;
    const per = (x) => x / r.requests;
    return {
      rps: r.rps,
      errors: r.errors,
      cpuUs: cpuBefore === null || cpuAfter === null ? null : per((cpuAfter - cpuBefore) * 1e6),
      scavengesPerK: per(s.scavenges) * 1000,
      scavengeUs: per(s.scavengeMs * 1000),
      markCompactsPerK: per(s.markCompacts) * 1000,
      markCompactUs: per(s.markCompactMs * 1000),
      promotedKB: per(s.promotedBytes) / 1024,
    };
  } finally {
    await server.stop();
  }
}

log(
  `${variants.length} variants, ${rounds} rounds, ${warmup} s warm-up + ${duration} s measured each, ${connections} connections, ${tool}`,
);
const started = Date.now();
const samples = new Map(variants.map((v) => [v.name, []]));
for (let round = 1; round <= rounds; round++) {
  for (const v of variants) {
    const m = await measure(v);
    samples.get(v.name).push(m);
    log(
      `round ${round}/${rounds} ${v.name.padEnd(26)} ${Math.round(m.rps)} req/s, scavenges ${m.scavengeUs.toFixed(1)} µs/req, mark-compacts ${m.markCompactUs.toFixed(2)} µs/req, promoted ${m.promotedKB.toFixed(2)} KB/req`,
    );
  }
}
const keys = ['rps', 'cpuUs', 'scavengesPerK', 'scavengeUs', 'markCompactsPerK', 'markCompactUs', 'promotedKB'];
const rows = variants.map((v) => {
  const ms = samples.get(v.name);
  const row = { variant: v.name, framework: v.framework, app: v.app, kind: kindOf(v), rounds: ms.length };
  for (const k of keys) {
    const xs = ms.map((m) => m[k]).filter((x) => x !== null);
    row[k] = xs.length > 0 ? median(xs) : null;
  }
  row.errors = ms.reduce((n, m) => n + m.errors, 0);
  row.gcShare = row.cpuUs === null ? null : (row.scavengeUs + row.markCompactUs) / row.cpuUs;
  return row;
});
const f = (n, d) => (n === null ? '–' : n.toFixed(d));
const md = [
  '# Garbage collection per request: GET /users/:id, bare framework vs. metrics libraries',
  '',
  `Every variant in a fresh process with --trace-gc-nvp, one at a time, ${rounds} round${rounds === 1 ? '' : 's'} (A B C ... A B C ...), ${warmup} s of warm-up then ${duration} s measured, ${connections} connections from ${tool}${cpus ? `, server on CPU ${cpus.server} and load on ${cpus.load}` : ''}. Medians over the rounds. "Pause": the collections' time on the JavaScript thread; "GC share": scavenge + mark-compact pauses over the server's CPU time per request.`,
  `Node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'}); ${Math.round((Date.now() - started) / 1000)} s in all. ${new Date().toISOString()}.`,
  '',
  '| variant | req/s | CPU µs/req | scavenges per 1000 req | scavenge pause µs/req | mark-compacts per 1000 req | mark-compact pause µs/req | promoted KB/req | GC share of CPU | errors |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${rowLabel(r)} | ${f(r.rps, 0)} | ${f(r.cpuUs, 1)} | ${f(r.scavengesPerK, 2)} | ${f(r.scavengeUs, 1)} | ${f(r.markCompactsPerK, 3)} | ${f(r.markCompactUs, 2)} | ${f(r.promotedKB, 2)} | ${r.gcShare === null ? '–' : `${(r.gcShare * 100).toFixed(1)}%`} | ${r.errors} |`,
  ),
  '',
].join('\n');
process.stdout.write(md);
const written = writeResults(outDir, 'gc', md, { tool, pin: cpus, rounds, warmup, duration, connections, rows });
log(`written: ${written.join(', ')}`);
