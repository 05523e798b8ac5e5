// Throughput of the same app (GET /users/:id → small JSON) bare, with prom-http and with each peer library.
// Every variant is its own server process, warmed up, replaced by a fresh one every round (--restart-every);
// only the ones being measured run, the others are stopped (SIGSTOP) and take no CPU. Fresh processes every
// round matter here: one process of an app can stay 10-20% faster or slower than another of the same app for
// its whole life (memory layout, JIT decisions), so a few long-lived processes make the ratios a lottery.
// Every round loads every variant once, in the same order, from a separate process (wrk, or autocannon's
// CLI): a settling second, then the measured window. Many short interleaved rounds spread the machine's
// noise, which comes and goes over seconds, over all variants alike; the control rows (the bare app again,
// another process) show how large that noise still is.
//
//   node bench/run.mjs [--rounds 30] [--duration 3] [--settle 1] [--restart-every 1] [--warmup 2] [--connections 50] [--only a,b]
//                      [--mode both|interleaved|paired] [--tool wrk|autocannon] [--pin auto|on|off] [--smoke] [--out DIR]
//                      [--baseline DIR]
//
// Writes latest.md and latest.json to --out, by default bench/results (a --smoke run: a temporary directory).
//
// --rounds (default 30): every round is fresh processes, and a process of an app can stay 10-20% off another of
// the same app for its whole life, so medians over 16 rounds still moved by ±2% from one run to the next.
//
// --pin (default auto: on when taskset and 2+ CPUs exist) runs the servers on the last CPU and the load
// generator on the others, so the two never compete for one core.
//
// --baseline DIR: another checkout of prom-http (installed, packages built), for the `*-prom-http-baseline` rows:
// the same apps with that build of prom-http, to compare two versions in one run. When a run has an
// `*-prom-http-exemplars` row, every request of every variant carries the traceparent header it reads.
//
// --mode (default both) picks the designs: "interleaved" measures one server at a time, as above; "paired"
// measures each variant at the same moment as its bare framework: a fresh process of each, started, warmed up
// and loaded together on the same CPU, each under its own load generator, and the variant's req/s is divided
// by the bare one's of that same window. What the machine does to one (other tenants, clock and cache effects,
// which swing a lone server's req/s by ±15% from one window to the next here) it does to both, so the ratio
// keeps only what the library costs. Each pair is its own two processes (never a bare process shared by all
// pairs, which would have served more windows than each variant), and which of the two starts its load first
// alternates by round; the control pair (bare beside bare) shows what is left of bias and noise.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { nonNegativeInt, positiveInt } from './lib/args.mjs';
import { recordsRoute } from './lib/exposition.mjs';
import { defaultTool, load } from './lib/load.mjs';
import { resultsDir, writeResults } from './lib/results.mjs';
import { cpuPlan, cpuSeconds, getJson, getText, startApp } from './lib/server.mjs';
import { median } from './lib/stats.mjs';
import { envOf, headersOf, kindOf, rowLabel, select } from './lib/variants.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '30' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    settle: { type: 'string', default: '1' },
    'restart-every': { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    tool: { type: 'string' },
    pin: { type: 'string', default: 'auto' },
    mode: { type: 'string', default: 'both' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const outDir = resultsDir(args);

const smoke = args.smoke;
const rounds = smoke ? 1 : positiveInt(args, 'rounds');
const duration = smoke ? 1 : positiveInt(args, 'duration');
const warmup = smoke ? 0 : nonNegativeInt(args, 'warmup');
const settle = smoke ? 0 : nonNegativeInt(args, 'settle');
const restartEvery = positiveInt(args, 'restart-every');
const connections = positiveInt(args, 'connections');
const tool = args.tool ?? defaultTool();
if (tool !== 'wrk' && tool !== 'autocannon') throw new Error(`--tool must be wrk or autocannon, not ${tool}`);
const baselineDir = args.baseline ? path.resolve(args.baseline) : undefined;
const variants = select(args.only, baselineDir);
// What any variant needs on every request (the exemplars rows' traceparent), sent to all of them alike.
const headers = headersOf(variants);
const start = (variant) => startApp(variant.app, { cpus: cpus?.server, env: envOf(variant, baselineDir) });
if (!['auto', 'on', 'off'].includes(args.pin)) throw new Error(`--pin must be auto, on or off, not ${args.pin}`);
const cpus = cpuPlan(args.pin);
if (!['both', 'interleaved', 'paired'].includes(args.mode)) throw new Error(`--mode must be both, interleaved or paired, not ${args.mode}`);
const interleaved = args.mode !== 'paired';
const paired = args.mode !== 'interleaved';

const log = (s) => process.stderr.write(`${s}\n`);
const url = (server) => `${server.url}/users/42`;

/** Stops or resumes a server process: only the server being measured runs, the others take no CPU at all. */
function pause(server) {
  server.child.kill('SIGSTOP');
}
function resume(server) {
  server.child.kill('SIGCONT');
}

/** One measured window of `server`, with the server's CPU time per request over it. */
async function measure(server) {
  resume(server);
  try {
    if (settle > 0) await load({ tool, url: url(server), connections, duration: settle, cpus: cpus?.load, headers });
    const cpuBefore = cpuSeconds(server.child.pid);
    const result = await load({ tool, url: url(server), connections, duration, cpus: cpus?.load, headers });
    const cpuAfter = cpuSeconds(server.child.pid);
    const cpuUs = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1e6) / result.requests;
    return { ...result, cpuUs };
  } finally {
    pause(server);
  }
}

/**
 * One paired window of `variant`: a fresh process of it and a fresh process of its bare framework (its twin),
 * started together, warmed up together and measured together on the same CPU, each under its own load
 * generator: both req/s and CPU µs/req, and how busy the two kept the servers' CPU (near 1: the load saturated
 * it). The two have exactly the same history (a bare process shared by every pair of a round would have served
 * several windows more than each variant), and which of the two starts its load first alternates by round.
 */
async function measurePair(variant, round) {
  const twin = bareOf(variant);
  const [bareServer, server] = await Promise.all([start(twin), start(variant)]);
  try {
    const swap = round % 2 === 1;
    const order = swap ? [server, bareServer] : [bareServer, server];
    const both = async (seconds) => {
      const results = await Promise.all(
        order.map((s) => load({ tool, url: url(s), connections, duration: seconds, cpus: cpus?.load, headers })),
      );
      return swap ? results.reverse() : results;
    };
    if (warmup + settle > 0) await both(warmup + settle);
    const before = [cpuSeconds(bareServer.child.pid), cpuSeconds(server.child.pid)];
    const t0 = process.hrtime.bigint();
    const [bare, measured] = await both(duration);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = [cpuSeconds(bareServer.child.pid), cpuSeconds(server.child.pid)];
    const known = [...before, ...after].every((c) => c !== null);
    const cpuUs = (i, r) => (known ? ((after[i] - before[i]) * 1e6) / r.requests : null);
    let recorded = null;
    if (variant.route) {
      const { status, body } = await getText(`${server.url}/metrics`);
      recorded = status === 200 && recordsRoute(body, variant.route);
    }
    return {
      bare: { ...bare, cpuUs: cpuUs(0, bare) },
      variant: { ...measured, cpuUs: cpuUs(1, measured) },
      busy: known ? (after[0] - before[0] + after[1] - before[1]) / seconds : null,
      recorded,
    };
  } finally {
    await Promise.all([bareServer.stop(), server.stop()]);
  }
}

/** After the rounds: the server's memory, and whether the library recorded the load in its /metrics. */
async function inspect(variant, server) {
  resume(server);
  const memory = await getJson(`${server.url}/__heap`);
  let recorded = null;
  if (variant.route) {
    const { status, body } = await getText(`${server.url}/metrics`);
    recorded = status === 200 && recordsRoute(body, variant.route);
  }
  return { rssMB: memory.rss / 2 ** 20, heapUsedMB: memory.heapUsed / 2 ** 20, recorded };
}

function pinText() {
  return cpus ? `servers on CPU ${cpus.server}, load generator on CPU ${cpus.load}` : 'not pinned to CPUs';
}
const pairedVariants = variants.filter((v) => !v.bare);
const estimate =
  (interleaved
    ? Math.ceil(rounds / restartEvery) * variants.length * (warmup + 2) + variants.length * rounds * (settle + duration + 0.3)
    : 0) + (paired ? pairedVariants.length * rounds * (2 + warmup + settle + duration) : 0);
log(
  `${variants.length} variants × ${rounds} rounds of ${duration} s (after ${settle} s of settling load each), ${args.mode} (${[interleaved && 'interleaved', paired && 'paired'].filter(Boolean).join(' and ')}), new server processes every ${restartEvery} rounds with ${warmup} s warm-up each, ${connections} connections, ${tool}, ${pinText()}: about ${Math.ceil(estimate / 60)} min`,
);
const loadBefore = os.loadavg();
const started = Date.now();
const runs = Object.fromEntries(variants.map((v) => [v.name, []]));
const pairs = Object.fromEntries(pairedVariants.map((v) => [v.name, []]));
const servers = [];
let inspected;
/** A fresh set of server processes, each warmed up, then stopped until its turn. */
async function startServers() {
  servers.push(...(await Promise.all(variants.map(start))));
  for (const server of servers) pause(server);
  for (const server of servers) {
    resume(server);
    if (warmup > 0) await load({ tool, url: url(server), connections, duration: warmup, cpus: cpus?.load, headers });
    pause(server);
  }
}
async function stopServers() {
  for (const server of servers.splice(0)) {
    resume(server);
    await server.stop();
  }
}
function bareOf(variant) {
  return variants.find((b) => b.bare && b.framework === variant.framework);
}
try {
  for (let round = 0; round < rounds; round++) {
    // New processes: what one process happens to get (memory layout, JIT) averages out over the rounds.
    if (interleaved && round % restartEvery === 0) {
      await stopServers();
      await startServers();
    }
    for (const [i, variant] of variants.entries()) {
      if (!interleaved) break;
      const r = await measure(servers[i]);
      runs[variant.name].push(r);
      const flag = r.errors ? ` ${r.errors} errors` : '';
      const cpu = r.cpuUs === null ? '' : `  ${r.cpuUs.toFixed(0)} CPU µs/req`;
      log(
        `round ${round + 1}/${rounds} ${variant.name.padEnd(24)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${r.p99ms.toFixed(2)} ms${cpu}${flag}`,
      );
    }
    for (const variant of paired ? pairedVariants : []) {
      const p = await measurePair(variant, round);
      pairs[variant.name].push(p);
      const flag = p.bare.errors + p.variant.errors ? ` ${p.bare.errors + p.variant.errors} errors` : '';
      log(
        `round ${round + 1}/${rounds} paired ${variant.name.padEnd(24)} ${p.variant.rps.toFixed(0).padStart(7)} req/s beside bare ${p.bare.rps.toFixed(0).padStart(7)}: ${(p.variant.rps / p.bare.rps).toFixed(3)}${flag}`,
      );
    }
  }
  // The paired design alone keeps no processes between windows: a fresh set for the memory and /metrics check.
  if (servers.length === 0) await startServers();
  inspected = [];
  for (const [i, variant] of variants.entries()) inspected.push(await inspect(variant, servers[i]));
} finally {
  await stopServers();
}
const elapsed = (Date.now() - started) / 1000;

/** Every paired window the bare app `bare` ran in. */
const besideBare = (bare) => pairedVariants.filter((v) => v.framework === bare.framework).flatMap((v) => pairs[v.name]);
/** Whether the variant's /metrics held the load it served: after every paired window, and after the interleaved rounds. */
function recordedBy(variant, ps) {
  if (!variant.route) return null;
  if (ps.some((p) => p.recorded !== true)) return false;
  return interleaved ? inspected[variants.indexOf(variant)].recorded : true;
}
const spread = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const rows = variants.map((v) => {
  const rs = runs[v.name];
  const bare = runs[bareOf(v).name];
  const rps = rs.map((r) => r.rps);
  const ps = pairs[v.name] ?? [];
  const pairedRow = (ps.length > 0 || (paired && v.bare)) && {
    ratio: v.bare ? spread([1]) : spread(ps.map((p) => p.variant.rps / p.bare.rps)),
    rps: v.bare ? null : median(ps.map((p) => p.variant.rps)),
    bareRps: v.bare ? null : median(ps.map((p) => p.bare.rps)),
    p99ms: v.bare ? null : median(ps.map((p) => p.variant.p99ms)),
    cpuRatio: ps.length > 0 && ps.every((p) => p.busy !== null) ? median(ps.map((p) => p.variant.cpuUs / p.bare.cpuUs)) : null,
    busy: ps.length > 0 && ps.every((p) => p.busy !== null) ? median(ps.map((p) => p.busy)) : null,
    runs: ps,
  };
  const errors = rs.reduce((n, r) => n + r.errors, 0) + ps.reduce((n, p) => n + p.variant.errors + p.bare.errors, 0);
  return {
    variant: v.name,
    app: v.app,
    framework: v.framework,
    kind: kindOf(v),
    interleaved: interleaved
      ? {
          rps: spread(rps),
          p99ms: median(rs.map((r) => r.p99ms)),
          ratio: median(rps) / median(bare.map((r) => r.rps)),
          roundRatio: spread(rs.map((r, i) => r.rps / bare[i].rps)),
          cpuUs: rs.every((r) => r.cpuUs !== null) ? median(rs.map((r) => r.cpuUs)) : null,
          cpuRatio: rs.every((r) => r.cpuUs !== null) ? median(rs.map((r) => r.cpuUs)) / median(bare.map((r) => r.cpuUs)) : null,
          runs: rs,
        }
      : null,
    paired: pairedRow || null,
    // Throughput of the variant alone (interleaved), else while paired with its bare framework.
    rps: { median: interleaved ? median(rps) : v.bare ? median(besideBare(v).map((p) => p.bare.rps)) : pairedRow.rps },
    rssMB: inspected[variants.indexOf(v)].rssMB,
    errors,
    // Recorded in its /metrics after every paired window, and after the interleaved rounds.
    recorded: recordedBy(v, ps),
  };
});

const f0 = (n) => n.toFixed(0);
const f2 = (n) => n.toFixed(2);
const f3 = (n) => n.toFixed(3);
const md = [
  `# Throughput: GET /users/:id, bare framework vs. metrics libraries`,
  '',
  `${rounds} round(s); every server process is replaced by a fresh one every ${restartEvery} rounds and warmed up ${warmup} s, and is stopped (SIGSTOP) while it is not measured; every window is ${duration} s measured after ${settle} s of settling load; ${connections} connections, load by ${tool} in its own process; ${pinText()}.`,
  `Node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'}), load average before ${loadBefore.map(f2).join(' ')}, after ${os.loadavg().map(f2).join(' ')}; ${f0(elapsed)} s in all. ${new Date().toISOString()}.`,
  ...(baselineDir ? [`Baseline rows: prom-http built in ${baselineDir}.`] : []),
  ...Object.entries(headers).map(([name, value]) => `Every request of every variant carries \`${name}: ${value}\`.`),
  '',
];
if (paired) {
  md.push(
    '## Paired: each variant at the same moment as its bare framework',
    '',
    'In every round, each variant runs at once with the bare app of its framework: a fresh process of each, started, warmed up and loaded together, on the same CPU, each under its own load generator; "ratio" is the variant\'s req/s over the bare app\'s in that same window (median, min and max over the rounds). The machine\'s swings hit both alike and cancel out. "CPU ratio" is the same for server CPU µs/req; "CPU busy" is the two servers\' CPU time over the window (near 1.00: the load saturated their CPU, so req/s is what each costs). The control row is the bare app beside itself: its spread is the noise floor.',
    '',
    '| variant | framework | ratio (median) | min | max | req/s (median) | bare req/s beside it | p99 ms (median) | CPU ratio | CPU busy | recorded |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows
      .filter((r) => r.paired && r.kind !== 'bare')
      .map((r) => {
        const p = r.paired;
        return `| ${rowLabel(r)} | ${r.framework} | ${f3(p.ratio.median)} | ${f3(p.ratio.min)} | ${f3(p.ratio.max)} | ${f0(p.rps)} | ${f0(p.bareRps)} | ${f2(p.p99ms)} | ${p.cpuRatio === null ? '–' : f3(p.cpuRatio)} | ${p.busy === null ? '–' : f2(p.busy)} | ${r.recorded === null ? '–' : r.recorded ? 'yes' : 'NO'} |`;
      }),
    '',
  );
}
if (interleaved) {
  md.push(
    '## Interleaved: one server at a time',
    '',
    'Every round measures every variant once, alone, in the same order. "ratio" is the variant\'s median req/s over the bare framework\'s median; "round ratio" is the same per round (each variant against the bare run of its own round, tens of seconds apart). Control rows are the bare app measured again: their spread is the noise floor. "server CPU µs/req" is the server process\'s user + system CPU time over the measured window divided by the requests served (from /proc), and "CPU ratio" is its median over the bare framework\'s.',
    '',
    '| variant | framework | median req/s | min | max | p99 ms (median) | ratio | round ratio median | min | max | server CPU µs/req | CPU ratio | RSS MB after | errors | recorded |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => {
      const i = r.interleaved;
      return `| ${rowLabel(r)} | ${r.framework} | ${f0(i.rps.median)} | ${f0(i.rps.min)} | ${f0(i.rps.max)} | ${f2(i.p99ms)} | ${f3(i.ratio)} | ${f3(i.roundRatio.median)} | ${f3(i.roundRatio.min)} | ${f3(i.roundRatio.max)} | ${i.cpuUs === null ? '–' : f0(i.cpuUs)} | ${i.cpuRatio === null ? '–' : f3(i.cpuRatio)} | ${r.rssMB.toFixed(1)} | ${r.errors} | ${r.recorded === null ? '–' : r.recorded ? 'yes' : 'NO'} |`;
    }),
    '',
  );
}
const text = md.join('\n');

console.log(text);
const written = writeResults(outDir, 'latest', text, {
  cpus: os.cpus().length,
  tool,
  pin: cpus,
  mode: args.mode,
  rounds,
  duration,
  settle,
  restartEvery,
  warmup,
  connections,
  loadBefore,
  loadAfter: os.loadavg(),
  elapsed,
  rows,
});
console.log(`written: ${written.join(', ')}`);
if (rows.some((r) => r.errors > 0 || r.recorded === false || !(r.rps.median > 0))) process.exitCode = 1;
