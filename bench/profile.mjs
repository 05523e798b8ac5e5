// Where a metrics library's time goes on the request path: runs an app under load with --cpu-prof and reports
// the share of the server's busy CPU samples spent in prom-http's own code (and the Node internals it calls
// directly, such as adding the response listener), with the functions that take it. A share of samples
// within one process is far less sensitive to a noisy machine than req/s; the median of several runs is kept.
//
//   node bench/profile.mjs [--only express-prom-http,fastify-prom-http] [--runs 3] [--duration 6] [--out bench/results]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { defaultTool, load } from './lib/load.mjs';
import { resultsDir } from './lib/results.mjs';
import { startApp } from './lib/server.mjs';
import { median } from './lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'express-prom-http,fastify-prom-http' },
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '6' },
    connections: { type: 'string', default: '50' },
    out: { type: 'string' },
  },
});
const outDir = resultsDir(args);
const runs = positiveInt(args, 'runs');
const duration = positiveInt(args, 'duration');
const connections = positiveInt(args, 'connections');
const tool = defaultTool();
const apps = args.only.split(',').map((s) => s.trim());
// The app exits cleanly on SIGTERM, which is when --cpu-prof writes the profile.
const EXIT_ON_TERM = 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))';

/** Share of busy samples whose nearest non-Node frame is prom-http's, and the leaf functions behind it. */
export function analyze(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const owner = new Map();
  function ownerOf(id) {
    if (owner.has(id)) return owner.get(id);
    let found = null;
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const { url, functionName } = byId.get(cur).callFrame;
      if (url.includes('/packages/')) {
        found = functionName || '(anonymous)';
        break;
      }
      if (url.includes('node_modules') || url.includes('/bench/')) break;
    }
    owner.set(id, found);
    return found;
  }
  let busy = 0;
  let ours = 0;
  const functions = new Map();
  for (const id of profile.samples) {
    const leaf = byId.get(id).callFrame;
    if (leaf.functionName === '(idle)') continue;
    busy++;
    const fn = ownerOf(id);
    if (fn === null) continue;
    ours++;
    const key = leaf.url.includes('/packages/') ? fn : `${leaf.functionName} (in ${fn})`;
    functions.set(key, (functions.get(key) ?? 0) + 1);
  }
  return { busy, ours, share: ours / busy, functions };
}

const log = (s) => process.stderr.write(`${s}\n`);
const results = [];
for (const app of apps) {
  const shares = [];
  const functions = new Map();
  let busyAll = 0;
  for (let run = 1; run <= runs; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'prom-http-prof-'));
    try {
      const server = await startApp(app, { execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', EXIT_ON_TERM] });
      const url = `${server.url}/users/42`;
      let rps;
      try {
        await load({ tool, url, connections, duration: 2 });
        rps = (await load({ tool, url, connections, duration })).rps;
      } finally {
        await server.stop();
      }
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (file === undefined) throw new Error(`${app}: no profile written`);
      const r = analyze(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      shares.push(r.share);
      busyAll += r.busy;
      for (const [k, v] of r.functions) functions.set(k, (functions.get(k) ?? 0) + v);
      log(`${app} run ${run}: ${(100 * r.share).toFixed(2)}% of ${r.busy} busy samples in prom-http (${Math.round(rps)} req/s)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const top = [...functions].sort((a, b) => b[1] - a[1]).slice(0, 8);
  results.push({ app, shares, median: median(shares), top: top.map(([fn, n]) => ({ fn, share: n / busyAll })) });
}

const lines = [
  '# Request-path profile: share of server CPU in prom-http',
  '',
  `Each run: the app under ${tool} load (${connections} connections, 2 s warm-up, ${duration} s measured) with \`node --cpu-prof\`; the share is the busy samples (not idle) whose nearest frame outside Node's internals is prom-http's code. Node ${process.version}, ${new Date().toISOString()}.`,
  '',
  '| app | median share | runs | top functions (share of busy samples, all runs) |',
  '| --- | ---: | --- | --- |',
  ...results.map(
    (r) =>
      `| ${r.app} | ${(100 * r.median).toFixed(2)}% | ${r.shares.map((s) => `${(100 * s).toFixed(2)}%`).join(', ')} | ${r.top.map((t) => `${t.fn} ${(100 * t.share).toFixed(2)}%`).join('; ')} |`,
  ),
  '',
];
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'profile.md'), lines.join('\n'));
process.stdout.write(lines.join('\n'));
