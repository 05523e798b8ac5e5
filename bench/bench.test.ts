// The benchmark harness in CI: smoke runs of the throughput comparison (both designs, then paired alone), of the
// request-path and Express-shape timings, a short hostile run that holds prom-http to bounded series, the
// series limit under url x method x random-label traffic (in process), a short instruction count under
// valgrind and a short count of garbage collections. They run the built packages (packages/*/dist) in
// separate processes.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { METHODS } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTraceLine, sumCollections } from './lib/gc-trace.mjs';
import { resultsDir } from './lib/results.mjs';
import { median } from './lib/stats.mjs';
import { TRACEPARENT, VARIANTS } from './lib/variants.mjs';

const run = promisify(execFile);
const here = (file: string) => new URL(file, import.meta.url).pathname;
// This checkout, as the --baseline of the smoke runs: its packages are built before the bench tests run.
const checkout = here('..');
const out = mkdtempSync(join(tmpdir(), 'prom-http-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Row {
  variant: string;
  kind: string;
  rps: { median: number };
  interleaved: { ratio: number } | null;
  paired: { ratio: { median: number }; busy: number | null } | null;
  errors: number;
  recorded: boolean | null;
}
interface HostileResult {
  variant: string;
  load: { requests: number; errors: number; statuses: Record<string, number> };
  series: Record<string, number>;
  labelValues: string[];
  labelValueCount: number;
}

interface InstructionRow {
  variant: string;
  kind: string;
  requests: number;
  errors: number;
  mainPerRequest: number;
  allPerRequest: number;
  icacheMissesPerRequest: number | null;
  dcacheMissesPerRequest: number | null;
  mainRatio: number | null;
  threads: number;
  recorded: boolean | null;
}

interface GcRow {
  variant: string;
  kind: string;
  rounds: number;
  errors: number;
  rps: number;
  scavengesPerK: number;
  scavengeUs: number;
  markCompactUs: number;
  promotedKB: number;
  cpuUs: number | null;
  gcShare: number | null;
}

let hasValgrind = true;
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  hasValgrind = false;
}
if (!hasValgrind && process.env.CI) throw new Error('valgrind is missing: .ci/run installs the Debian package valgrind');

describe('bench', () => {
  it('smoke: every variant serves load and every library records it', async () => {
    await run(process.execPath, [here('./run.mjs'), '--smoke', '--out', out], { timeout: 120_000 });
    const { rows } = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { rows: Row[] };
    // The opt-in reference rows (floors) run only when named.
    const defaults = VARIANTS.filter((v) => !v.optIn);
    expect(defaults.length).toBeLessThan(VARIANTS.length);
    expect(rows.map((r) => r.variant)).toEqual(defaults.map((v) => v.name));
    for (const row of rows) {
      expect(row.rps.median, row.variant).toBeGreaterThan(0);
      expect(row.errors, row.variant).toBe(0);
      // Every library's /metrics held the load (after every paired window and after the rounds).
      expect(row.recorded, row.variant).toBe(VARIANTS.find((v) => v.name === row.variant)?.route ? true : null);
      // Both designs ran: each variant alone, and each beside its bare framework at the same moment.
      expect(row.interleaved?.ratio, row.variant).toBeGreaterThan(0);
      expect(row.paired?.ratio.median, row.variant).toBeGreaterThan(0);
      if (row.kind !== 'bare') expect(row.paired?.busy, row.variant).toBeGreaterThan(0);
    }
  }, 120_000);

  it('smoke, paired design alone: each pair is two fresh processes, and the library (and each reference row) still records the load', async () => {
    const dir = join(out, 'paired');
    // Every opt-in reference row (floors, prom-client's parts, the minimal recorder, the bigger heap).
    const references = VARIANTS.filter((v) => v.optIn && v.reference).map((v) => v.name);
    expect(references).toContain('express-minimal');
    const named = new Set(['fastify-prom-http', 'fastify-control', ...references]);
    await run(process.execPath, [here('./run.mjs'), '--smoke', '--mode', 'paired', '--only', [...named].join(','), '--out', dir], {
      timeout: 180_000,
    });
    const { rows } = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as { rows: Row[] };
    // In the order of VARIANTS, with each framework's bare app, which every ratio needs.
    const expected = VARIANTS.filter((v) => v.bare || named.has(v.name));
    expect(rows.map((r) => r.variant)).toEqual(expected.map((v) => v.name));
    for (const row of rows) {
      expect(row.interleaved, row.variant).toBeNull();
      expect(row.paired?.ratio.median, row.variant).toBeGreaterThan(0);
      expect(row.errors, row.variant).toBe(0);
    }
    // Each row that counts GET /users/:id showed it in its /metrics; the others have nothing to show.
    for (const v of expected.filter((e) => !e.bare)) {
      expect(rows.find((r) => r.variant === v.name)?.recorded, v.name).toBe(v.route ? true : null);
    }
  }, 180_000);

  it('smoke, the opt-in rows: native histograms, exemplars (every request carries their traceparent) and a baseline build', async () => {
    const dir = join(out, 'options');
    const named = ['express', 'fastify'].flatMap((f) => [
      `${f}-prom-http`,
      `${f}-prom-http-baseline`,
      `${f}-prom-http-native`,
      `${f}-prom-http-exemplars`,
    ]);
    await run(
      process.execPath,
      [here('./run.mjs'), '--smoke', '--mode', 'interleaved', '--only', named.join(','), '--baseline', checkout, '--out', dir],
      { timeout: 120_000 },
    );
    const { rows } = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as { rows: Row[] };
    expect(rows.map((r) => [r.variant, r.kind])).toEqual([
      ['express-bare', 'bare'],
      ['express-prom-http', 'prom-http'],
      ['express-prom-http-baseline', 'baseline'],
      ['express-prom-http-native', 'prom-http'],
      ['express-prom-http-exemplars', 'prom-http'],
      ['fastify-bare', 'bare'],
      ['fastify-prom-http', 'prom-http'],
      ['fastify-prom-http-baseline', 'baseline'],
      ['fastify-prom-http-native', 'prom-http'],
      ['fastify-prom-http-exemplars', 'prom-http'],
    ]);
    for (const row of rows) {
      expect(row.errors, row.variant).toBe(0);
      expect(row.interleaved?.ratio, row.variant).toBeGreaterThan(0);
      expect(row.recorded, row.variant).toBe(row.kind === 'bare' ? null : true);
    }
    const md = readFileSync(join(dir, 'latest.md'), 'utf8');
    expect(md).toContain(`Baseline rows: prom-http built in ${checkout.replace(/\/$/, '')}.`);
    expect(md).toContain(`Every request of every variant carries \`traceparent: ${TRACEPARENT}\`.`);
  }, 120_000);

  it('a baseline row without --baseline stops the run, naming the option', async () => {
    await expect(
      run(process.execPath, [here('./run.mjs'), '--smoke', '--only', 'fastify-prom-http-baseline', '--out', join(out, 'no-baseline')], {
        timeout: 60_000,
      }),
    ).rejects.toThrow('fastify-prom-http-baseline needs --baseline DIR');
  }, 60_000);

  it('scrape: prom-http and prom-client render the same text; every option in every format has its bytes and times', async () => {
    const dir = join(out, 'scrape');
    await run(process.execPath, [here('./scrape.mjs'), '--smoke', '--out', dir], { timeout: 60_000 });
    const result = JSON.parse(readFileSync(join(dir, 'scrape.json'), 'utf8')) as {
      series: number;
      identical: boolean;
      options: Array<{ setting: string; format: string; contentType: string; bytes: number; exemplars: number | null; median: number }>;
    };
    expect(result.series).toBe(300);
    expect(result.identical).toBe(true);
    const settings = ['defaults', 'nativeHistograms', 'exemplars', 'both'];
    const formats = ['text 0.0.4', 'OpenMetrics', 'protobuf'];
    expect(result.options.map((r) => `${r.setting}/${r.format}`)).toEqual(settings.flatMap((s) => formats.map((f) => `${s}/${f}`)));
    const row = (setting: string, format: string) => result.options.find((r) => r.setting === setting && r.format === format);
    for (const r of result.options) {
      expect(r.median, `${r.setting}/${r.format}`).toBeGreaterThan(0);
      expect(r.contentType, `${r.setting}/${r.format}`).toMatch(
        {
          'text 0.0.4': /^text\/plain; version=0\.0\.4/,
          OpenMetrics: /^application\/openmetrics-text/,
          protobuf: /^application\/vnd\.google\.protobuf/,
        }[r.format] as RegExp,
      );
    }
    // Neither option changes the 0.0.4 text; native buckets live in the protobuf alone.
    for (const s of settings) expect(row(s, 'text 0.0.4')?.bytes, s).toBe(row('defaults', 'text 0.0.4')?.bytes);
    expect(row('nativeHistograms', 'OpenMetrics')?.bytes).toBe(row('defaults', 'OpenMetrics')?.bytes);
    expect(row('nativeHistograms', 'protobuf')?.bytes).toBeGreaterThan(row('defaults', 'protobuf')?.bytes ?? Infinity);
    // Exemplars: none without the option; with it, at least the request counter's of every series.
    expect(row('defaults', 'OpenMetrics')?.exemplars).toBe(0);
    expect(row('exemplars', 'OpenMetrics')?.exemplars).toBeGreaterThanOrEqual(result.series * 2);
    expect(row('exemplars', 'protobuf')?.bytes).toBeGreaterThan(row('defaults', 'protobuf')?.bytes ?? Infinity);
    expect(readFileSync(join(dir, 'scrape.md'), 'utf8')).toContain('| both | protobuf |');
  }, 60_000);

  it("request path: prom-http's start and finish alone record every request of the loop", async () => {
    const { stdout } = await run(process.execPath, [here('./request-path.mjs'), '--requests', '2000', '--rounds', '2'], {
      timeout: 60_000,
    });
    expect(stdout).toMatch(/median: -?\d+ ns per request/);
  }, 60_000);

  it('series limit: url x method x random label traffic stays at the limit plus one overflow series per method and status', async () => {
    await run(process.execPath, ['--expose-gc', here('./series-limit.mjs'), '--smoke', '--out', out], { timeout: 60_000 });
    const { limit, rows } = JSON.parse(readFileSync(join(out, 'series-limit.json'), 'utf8')) as {
      limit: number;
      rows: Array<{ requests: number; series: number; durationSeries: number }>;
    };
    expect(rows.map((r) => r.requests)).toEqual([0, 1750, 3500, 5250]);
    for (const r of rows.slice(1)) {
      expect(r.series).toBe(limit + METHODS.length * 3);
      expect(r.durationSeries).toBe(r.series);
    }
  }, 60_000);

  it('cluster scrape: both clusters answer every scrape of the smoke point, with expositions of the same size', async () => {
    await run(process.execPath, [here('./cluster-scrape.mjs'), '--smoke', '--out', out], { timeout: 120_000 });
    const { points } = JSON.parse(readFileSync(join(out, 'cluster-scrape.json'), 'utf8')) as {
      points: Array<{ libraries: Record<string, { failed: number; bytes: number; times: number[] }> }>;
    };
    expect(points.length).toBeGreaterThan(0);
    for (const { libraries } of points) {
      const ours = libraries['prom-http'];
      const theirs = libraries['prom-client'];
      expect(ours?.failed).toBe(0);
      expect(theirs?.failed).toBe(0);
      expect(ours?.times.length).toBeGreaterThan(0);
      // Both render the same series; the process metrics of the two clients differ by a few lines.
      expect(Math.abs((ours?.bytes ?? 0) - (theirs?.bytes ?? 0)) / (theirs?.bytes ?? 1)).toBeLessThan(0.05);
    }
  }, 120_000);

  it("Express's request shapes: the harness times reads of request objects made both ways", async () => {
    const { stdout } = await run(
      process.execPath,
      ['--allow-natives-syntax', here('./express-shapes.mjs'), '--objects', '2000', '--rounds', '2'],
      {
        timeout: 60_000,
      },
    );
    expect(stdout).toContain(
      "two requests share a shape: as Node made them true, after Object.setPrototypeOf alone true, then with the router's properties false",
    );
    expect(stdout.match(/\d+ ns per read/g)).toHaveLength(12);
  }, 60_000);

  it('hostile: prom-http keeps one <unmatched> series and folds ids into /users/:id', async () => {
    const only = 'express-prom-http,fastify-prom-http';
    await run(process.execPath, [here('./hostile.mjs'), '--requests', '5000', '--only', only, '--out', out], { timeout: 60_000 });
    const { results } = JSON.parse(readFileSync(join(out, 'hostile.json'), 'utf8')) as { results: HostileResult[] };
    expect(results.map((r) => r.variant)).toEqual(only.split(','));
    for (const r of results) {
      expect(r.load.requests, r.variant).toBe(5000);
      expect(r.load.errors, r.variant).toBe(0);
      expect(Object.keys(r.load.statuses).sort(), r.variant).toEqual(['200', '404']);
      expect([...r.labelValues].sort(), r.variant).toEqual(['/users/:id', '<unmatched>']);
      // One series per route and status: GET /users/:id 200 and GET <unmatched> 404.
      expect(r.series.http_request_total, r.variant).toBe(2);
      expect(r.series.http_request_duration_seconds_count, r.variant).toBe(2);
      expect(r.series.http_request_exceptions_total ?? 0, r.variant).toBe(0);
    }
  }, 60_000);

  it.skipIf(!hasValgrind)(
    "instructions: callgrind counts each server's instructions over exactly the requests sent",
    async () => {
      const dir = join(out, 'instructions');
      // With this checkout as the baseline: the same build of prom-http counted twice, in two kinds of row.
      const only = 'fastify-prom-http,fastify-prom-http-baseline';
      const dumps = join(dir, 'dumps');
      const argv = ['--smoke', '--only', only, '--baseline', checkout, '--parallel', '3', '--out', dir, '--keep', dumps];
      await run(process.execPath, [here('./instructions.mjs'), ...argv], {
        timeout: 240_000,
      });
      const { rows, requests } = JSON.parse(readFileSync(join(dir, 'instructions.json'), 'utf8')) as {
        rows: InstructionRow[];
        requests: number;
      };
      // The bare framework comes along: every ratio needs it.
      expect(rows.map((r) => r.variant)).toEqual(['fastify-bare', 'fastify-prom-http', 'fastify-prom-http-baseline']);
      for (const r of rows) {
        expect(r.requests, r.variant).toBe(requests);
        expect(r.errors, r.variant).toBe(0);
        // Serving a request takes tens of thousands of instructions: a count near zero would mean callgrind
        // counted outside the requests.
        expect(r.mainPerRequest, r.variant).toBeGreaterThan(10_000);
        expect(r.allPerRequest, r.variant).toBeGreaterThanOrEqual(r.mainPerRequest);
        // The simulated L1 caches miss: some of every request's code and data are not in them.
        expect(r.icacheMissesPerRequest, r.variant).toBeGreaterThan(0);
        expect(r.dcacheMissesPerRequest, r.variant).toBeGreaterThan(0);
        // Node runs helper threads (libuv's, V8's): one file per thread.
        expect(r.threads, r.variant).toBeGreaterThan(1);
      }
      // Each ratio is the row's count over its bare framework's.
      const [bare, ours, baseline] = rows as [InstructionRow, InstructionRow, InstructionRow];
      expect(baseline.mainRatio).toBeCloseTo(baseline.mainPerRequest / bare.mainPerRequest, 9);
      expect(baseline.kind).toBe('baseline');
      expect(baseline.recorded).toBe(true);
      expect(ours.mainRatio).toBeCloseTo(ours.mainPerRequest / bare.mainPerRequest, 9);
      expect(ours.kind).toBe('prom-http');
      expect(ours.recorded).toBe(true);
      expect(readFileSync(join(dir, 'instructions.md'), 'utf8')).toContain('| fastify-prom-http | fastify |');
      // --keep left callgrind's dump of the JavaScript thread and V8's map naming the JIT code in it.
      for (const v of ['fastify-bare', 'fastify-prom-http']) {
        expect(readFileSync(join(dumps, `${v}.out.1-01`), 'utf8'), v).toMatch(/^# callgrind format/);
        expect(readFileSync(join(dumps, `${v}.perf.map`), 'utf8'), v).toMatch(/^[0-9a-f]+ [0-9a-f]+ /m);
      }
    },
    240_000,
  );

  it('results: a smoke run never writes over the published tables unless told to with --out', () => {
    const published = here('./results');
    expect(resultsDir({})).toBe(published);
    expect(resultsDir({ smoke: false })).toBe(published);
    expect(resultsDir({ smoke: true })).toBe(join(tmpdir(), 'prom-http-bench-smoke'));
    expect(resultsDir({ smoke: true, out: '/x' })).toBe('/x');
  });

  it('median: the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it("gc: reads V8's --trace-gc-nvp lines, scavenges apart from mark-compacts", () => {
    // Lines as Node 20 prints them (cut short: the parser reads pause, gc and promoted wherever they are).
    const scavenge =
      '[3776:0x382c7c60]       88 ms: pause=2.6 mutator=80.1 gc=s reduce_memory=0 scavenge=2.04 scavenge.roots=0.13 allocated=4998424 promoted=144128 new_space_survived=398760';
    const markCompact =
      '[3776:0x382c7c60]      560 ms: pause=5.5 mutator=22.3 gc=mc reduce_memory=0 heap.prologue=0.00 mark=0.3 total_size_before=15354280 promoted=22952';
    expect(parseTraceLine(scavenge)).toEqual({ kind: 's', pause: 2.6, promoted: 144128 });
    expect(parseTraceLine(markCompact)).toEqual({ kind: 'mc', pause: 5.5, promoted: 22952 });
    expect(parseTraceLine('[3776:0x382c7c60] Memory allocator,       used:   4096 KB')).toBeNull();
    const events = [scavenge, markCompact, scavenge].map((l) => parseTraceLine(l));
    // Bytes promoted by a mark-compact are not a scavenge's promotion: only scavenges' are summed.
    expect(sumCollections(events)).toEqual({
      scavenges: 2,
      scavengeMs: 5.2,
      markCompacts: 1,
      markCompactMs: 5.5,
      promotedBytes: 288256,
    });
  });

  it('gc: smoke run counts the collections of every server over its window', async () => {
    const dir = join(out, 'gc');
    await run(process.execPath, [here('./gc.mjs'), '--smoke', '--only', 'express-prom-http', '--out', dir], { timeout: 60_000 });
    const { rows, rounds } = JSON.parse(readFileSync(join(dir, 'gc.json'), 'utf8')) as { rows: GcRow[]; rounds: number };
    expect(rounds).toBe(1);
    expect(rows.map((r) => [r.variant, r.kind])).toEqual([
      ['express-bare', 'bare'],
      ['express-prom-http', 'prom-http'],
    ]);
    for (const r of rows) {
      expect(r.rounds, r.variant).toBe(1);
      expect(r.errors, r.variant).toBe(0);
      expect(r.rps, r.variant).toBeGreaterThan(0);
      // A second of Express under load allocates hundreds of megabytes: it scavenges, and some survives.
      expect(r.scavengesPerK, r.variant).toBeGreaterThan(0);
      expect(r.scavengeUs, r.variant).toBeGreaterThan(0);
      expect(r.promotedKB, r.variant).toBeGreaterThan(0);
      // The share is the two pauses over the server's CPU time, per request, and under all of it.
      expect(r.cpuUs, r.variant).toBeGreaterThan(0);
      expect(r.gcShare, r.variant).toBeCloseTo((r.scavengeUs + r.markCompactUs) / (r.cpuUs as number), 9);
      expect(r.gcShare, r.variant).toBeLessThan(1);
    }
    expect(readFileSync(join(dir, 'gc.md'), 'utf8')).toContain('| express-prom-http |');
  }, 60_000);
});
