// Throughput of the same app (GET /users/:id → small JSON) bare, with prom-http and with each peer library.
// Every variant is its own server process, warmed up, replaced by a fresh one every few rounds
// (--restart-every); only the one being measured runs, the others are stopped (SIGSTOP) and take no CPU.
// Every round loads every variant once, in the same order, from a separate process (wrk, or autocannon's
// CLI): a settling second, then the measured window. Many short interleaved rounds spread the machine's
// noise, which comes and goes over seconds, over all variants alike; the control rows (the bare app again,
// another process) show how large that noise still is.
//
//   node bench/run.mjs [--rounds 20] [--duration 3] [--settle 1] [--restart-every 5] [--warmup 3] [--connections 50] [--only a,b]
//                      [--tool wrk|autocannon] [--pin auto|on|off] [--smoke] [--out bench/results]
//
// --pin (default auto: on when taskset and 2+ CPUs exist) runs the servers on the last CPU and the load
// generator on the others, so the two never compete for one core.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { recordsRoute } from './lib/exposition.mjs';
import { defaultTool, load } from './lib/load.mjs';
import { cpuPlan, cpuSeconds, getJson, getText, startApp } from './lib/server.mjs';
import { select } from './lib/variants.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '3' },
    settle: { type: 'string', default: '1' },
    'restart-every': { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    tool: { type: 'string' },
    pin: { type: 'string', default: 'auto' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: new URL('./results', import.meta.url).pathname },
  },
});

const smoke = args.smoke;
const rounds = smoke ? 1 : positiveInt('rounds');
const duration = smoke ? 1 : positiveInt('duration');
const warmup = smoke ? 0 : nonNegativeInt('warmup');
const settle = smoke ? 0 : nonNegativeInt('settle');
const restartEvery = positiveInt('restart-every');
const connections = positiveInt('connections');
const tool = args.tool ?? defaultTool();
if (tool !== 'wrk' && tool !== 'autocannon') throw new Error(`--tool must be wrk or autocannon, not ${tool}`);
const variants = select(args.only);
if (!['auto', 'on', 'off'].includes(args.pin)) throw new Error(`--pin must be auto, on or off, not ${args.pin}`);
const cpus = cpuPlan(args.pin);

function positiveInt(name) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${args[name]}`);
  return n;
}
function nonNegativeInt(name) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, not ${args[name]}`);
  return n;
}

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
    if (settle > 0) await load({ tool, url: url(server), connections, duration: settle, cpus: cpus?.load });
    const cpuBefore = cpuSeconds(server.child.pid);
    const result = await load({ tool, url: url(server), connections, duration, cpus: cpus?.load });
    const cpuAfter = cpuSeconds(server.child.pid);
    const cpuUs = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1e6) / result.requests;
    return { ...result, cpuUs };
  } finally {
    pause(server);
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

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function pinText() {
  return cpus ? `servers on CPU ${cpus.server}, load generator on CPU ${cpus.load}` : 'not pinned to CPUs';
}
const estimate = Math.ceil(rounds / restartEvery) * variants.length * (warmup + 2) + variants.length * rounds * (settle + duration + 0.3);
log(
  `${variants.length} variants × ${rounds} rounds of ${duration} s (after ${settle} s of settling load each), new server processes every ${restartEvery} rounds with ${warmup} s warm-up each, ${connections} connections, ${tool}, ${pinText()}: about ${Math.ceil(estimate / 60)} min`,
);
const loadBefore = os.loadavg();
const started = Date.now();
const runs = Object.fromEntries(variants.map((v) => [v.name, []]));
const servers = [];
let inspected;
/** A fresh set of server processes, each warmed up, then stopped until its turn. */
async function startServers() {
  for (const variant of variants) {
    const server = await startApp(variant.app, { cpus: cpus?.server });
    servers.push(server);
    if (warmup > 0) await load({ tool, url: url(server), connections, duration: warmup, cpus: cpus?.load });
    pause(server);
  }
}
async function stopServers() {
  for (const server of servers.splice(0)) {
    resume(server);
    await server.stop();
  }
}
try {
  for (let round = 0; round < rounds; round++) {
    // New processes every few rounds: what one process happens to get (memory layout, JIT) averages out too.
    if (round % restartEvery === 0) {
      await stopServers();
      await startServers();
    }
    for (const [i, variant] of variants.entries()) {
      const r = await measure(servers[i]);
      runs[variant.name].push(r);
      const flag = r.errors ? ` ${r.errors} errors` : '';
      const cpu = r.cpuUs === null ? '' : `  ${r.cpuUs.toFixed(0)} CPU µs/req`;
      log(
        `round ${round + 1}/${rounds} ${variant.name.padEnd(24)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${r.p99ms.toFixed(2)} ms${cpu}${flag}`,
      );
    }
  }
  inspected = [];
  for (const [i, variant] of variants.entries()) inspected.push(await inspect(variant, servers[i]));
} finally {
  await stopServers();
}
const elapsed = (Date.now() - started) / 1000;

const rows = variants.map((v) => {
  const rs = runs[v.name];
  const bare = runs[variants.find((b) => b.bare && b.framework === v.framework).name];
  const rps = rs.map((r) => r.rps);
  const perRound = rs.map((r, i) => r.rps / bare[i].rps);
  return {
    variant: v.name,
    app: v.app,
    framework: v.framework,
    kind: v.bare ? 'bare' : v.control ? 'control' : v.reference ? 'reference' : v.ours ? 'prom-http' : 'peer',
    rps: { median: median(rps), min: Math.min(...rps), max: Math.max(...rps) },
    p99ms: median(rs.map((r) => r.p99ms)),
    ratio: median(rps) / median(bare.map((r) => r.rps)),
    roundRatio: { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound) },
    cpuUs: rs.every((r) => r.cpuUs !== null) ? median(rs.map((r) => r.cpuUs)) : null,
    cpuRatio: rs.every((r) => r.cpuUs !== null) ? median(rs.map((r) => r.cpuUs)) / median(bare.map((r) => r.cpuUs)) : null,
    rssMB: inspected[variants.indexOf(v)].rssMB,
    errors: rs.reduce((n, r) => n + r.errors, 0),
    recorded: inspected[variants.indexOf(v)].recorded,
    runs: rs,
  };
});

const f0 = (n) => n.toFixed(0);
const f2 = (n) => n.toFixed(2);
const f3 = (n) => n.toFixed(3);
const md = [
  `# Throughput: GET /users/:id, bare framework vs. metrics libraries`,
  '',
  `${rounds} interleaved round(s) of ${duration} s measured per variant, each after ${settle} s of settling load; one server process per variant, replaced by a fresh one every ${restartEvery} rounds and warmed up ${warmup} s, stopped (SIGSTOP) while the others are measured; ${connections} connections, load by ${tool} in its own process; ${pinText()}.`,
  `Node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'}), load average before ${loadBefore.map(f2).join(' ')}, after ${os.loadavg().map(f2).join(' ')}; ${f0(elapsed)} s in all. ${new Date().toISOString()}.`,
  '',
  '"ratio" is the variant\'s median req/s over the bare framework\'s median; "round ratio" is the same per round (each variant against the bare run of its own round). Control rows are the bare app measured again: their spread is the noise floor. "server CPU µs/req" is the server process\'s user + system CPU time over the measured window divided by the requests served (from /proc); it is much less sensitive than req/s to other load on the machine, and "CPU ratio" is its median over the bare framework\'s.',
  '',
  '| variant | framework | median req/s | min | max | p99 ms (median) | ratio | round ratio median | min | max | server CPU µs/req | CPU ratio | RSS MB after | errors | recorded |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map(
    (r) =>
      `| ${r.kind === 'control' ? `control (${r.app})` : r.variant} | ${r.framework} | ${f0(r.rps.median)} | ${f0(r.rps.min)} | ${f0(r.rps.max)} | ${f2(r.p99ms)} | ${f3(r.ratio)} | ${f3(r.roundRatio.median)} | ${f3(r.roundRatio.min)} | ${f3(r.roundRatio.max)} | ${r.cpuUs === null ? '–' : f0(r.cpuUs)} | ${r.cpuRatio === null ? '–' : f3(r.cpuRatio)} | ${r.rssMB.toFixed(1)} | ${r.errors} | ${r.recorded === null ? '–' : r.recorded ? 'yes' : 'NO'} |`,
  ),
  '',
].join('\n');

console.log(md);
mkdirSync(args.out, { recursive: true });
writeFileSync(join(args.out, 'latest.md'), md);
writeFileSync(
  join(args.out, 'latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, tool, pin: cpus, rounds, duration, settle, restartEvery, warmup, connections, loadBefore, loadAfter: os.loadavg(), elapsed, rows }, null, 2)}\n`,
);
if (rows.some((r) => r.errors > 0 || r.recorded === false || !(r.rps.median > 0))) process.exitCode = 1;
