// End to end, native histograms and exemplars: an Express app and a Fastify app with both options on
// (test/fixtures/traced-apps.mjs, on the built packages), each request inside an OpenTelemetry span whose ids the
// test chose, scraped by a real Prometheus with both features on; what it stored is read back through its HTTP API.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ok, PROMETHEUS_LISTENING, Processes, promQuery } from './helpers/processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Debian 13's Prometheus (2.53): Debian 12's 2.42 cannot keep classic buckets beside native ones (.ci/prometheus-native).
const PROMETHEUS = join(process.env.PROMHTTP_DEBIAN13 ?? '/opt/prom-http-debian13', 'usr', 'bin', 'prometheus');
const hasPrometheus = existsSync(PROMETHEUS);
if (!hasPrometheus && process.env.CI) throw new Error(`${PROMETHEUS} is missing: .ci/run unpacks it with .ci/prometheus-native`);
if (!hasPrometheus) console.warn('e2e-native.test.ts: no Prometheus 2.53 (bash .ci/prometheus-native), skipping');

const JOBS = ['express', 'fastify'] as const;
/** The handlers' delays, in ms: 10, 15, … 205; the 90th percentile is about 190 ms. */
const DELAYS = Array.from({ length: 40 }, (_, i) => 10 + 5 * i);

interface Exemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}

const processes = new Processes();
let dir = '';
let prometheusUrl = '';
const query = (expr: string) => promQuery(prometheusUrl, expr);
/** trace id -> span id of every request sent, per job. */
const spans: Record<string, Map<string, string>> = { express: new Map(), fastify: new Map() };
const started = Date.now() / 1000;

async function byJob(expr: string): Promise<Record<string, number>> {
  return Object.fromEntries((await query(expr)).map((s) => [s.metric.job ?? '', Number(s.value[1])]));
}

async function exemplars(selector: string): Promise<Array<{ seriesLabels: Record<string, string>; exemplars: Exemplar[] }>> {
  const params = new URLSearchParams({ query: selector, start: String(started - 60), end: String(Date.now() / 1000 + 60) });
  const res = await fetch(`${prometheusUrl}/api/v1/query_exemplars?${params}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: Array<{ seriesLabels: Record<string, string>; exemplars: Exemplar[] }>;
  };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`exemplars of ${selector}: ${body.error ?? res.status}`);
  return body.data;
}

describe.skipIf(!hasPrometheus)('a real Prometheus storing native histograms and exemplars', () => {
  beforeAll(async () => {
    const unbuilt = ['core', 'express', 'fastify'].filter((p) => !existsSync(join(ROOT, 'packages', p, 'dist', 'index.js')));
    if (unbuilt.length > 0) throw new Error(`packages not built (${unbuilt.join(', ')}): run \`pnpm run build\` first`);
    dir = mkdtempSync(join(tmpdir(), 'prom-http-native-'));
    const apps = processes.start('apps', process.execPath, [join('test', 'fixtures', 'traced-apps.mjs')]);
    const ports = {
      express: await processes.listeningPort(apps, /express listening on (\d+)/),
      fastify: await processes.listeningPort(apps, /fastify listening on (\d+)/),
    };
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: JOBS.map((job) => ({
          job_name: job,
          scrape_classic_histograms: true,
          static_configs: [{ targets: [`127.0.0.1:${ports[job]}`] }],
        })),
      }),
    );
    const prometheus = processes.start('prometheus', PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--enable-feature=native-histograms,exemplar-storage',
    ]);
    prometheusUrl = `http://127.0.0.1:${await processes.listeningPort(prometheus, PROMETHEUS_LISTENING)}`;
    await processes.eventually('Prometheus ready', () => ok(`${prometheusUrl}/-/ready`), 30_000);
    await processes.eventually('both apps scraped', async () => {
      const up = await byJob('up');
      return JOBS.every((job) => up[job] === 1) ? true : undefined;
    });

    for (const job of JOBS) {
      for (let i = 0; i < DELAYS.length; i += 10) {
        await Promise.all(
          DELAYS.slice(i, i + 10).map(async (ms) => {
            const traceId = randomBytes(16).toString('hex');
            const spanId = randomBytes(8).toString('hex');
            spans[job]?.set(traceId, spanId);
            const res = await fetch(`http://127.0.0.1:${ports[job]}/work/${ms}`, { headers: { 'x-trace': `${traceId}-${spanId}` } });
            await res.arrayBuffer();
            expect(res.status).toBe(200);
          }),
        );
      }
    }
    await processes.eventually('Prometheus has scraped every request', async () => {
      const counts = await byJob('histogram_count(sum by (job) (http_request_duration_seconds{path="/work/:ms"}))');
      return JOBS.every((job) => counts[job] === DELAYS.length) ? true : undefined;
    });
  }, 90_000);

  afterAll(async () => {
    await processes.stopAll();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('stores the duration as a native histogram whose count is the requests sent, classic buckets beside it', async () => {
    const native = await query('http_request_duration_seconds{path="/work/:ms"}');
    expect(native.map((s) => s.metric.job).sort()).toEqual([...JOBS]);
    for (const series of native) expect((series as unknown as { histogram?: unknown }).histogram, series.metric.job).toBeDefined();
    expect(await byJob('histogram_count(sum by (job) (http_request_duration_seconds{path="/work/:ms"}))')).toEqual({
      express: DELAYS.length,
      fastify: DELAYS.length,
    });
    expect(await byJob('sum by (job) (http_request_duration_seconds_count{path="/work/:ms"})')).toEqual({
      express: DELAYS.length,
      fastify: DELAYS.length,
    });
  });

  it("gives a 90th percentile in the range the handlers' delays make", async () => {
    const p90 = await byJob('histogram_quantile(0.9, sum by (job) (http_request_duration_seconds{path="/work/:ms"}))');
    for (const job of JOBS) {
      // The 36th of 40 delays is 190 ms; native buckets at factor 1.1 are within 5 %, a busy machine adds some.
      expect(p90[job], job).toBeGreaterThan(0.17);
      expect(p90[job], job).toBeLessThan(0.35);
    }
  });

  it("keeps exemplars whose trace and span ids are those of the requests' spans", async () => {
    for (const job of JOBS) {
      const sent = spans[job] as Map<string, string>;
      for (const selector of [`{__name__=~"http_request_duration_seconds(_bucket)?",job="${job}"}`, `http_request_total{job="${job}"}`]) {
        const found = (await exemplars(selector)).flatMap((series) => series.exemplars);
        expect(found.length, selector).toBeGreaterThan(0);
        for (const exemplar of found) {
          expect(sent.get(exemplar.labels.trace_id ?? ''), `${selector}: ${JSON.stringify(exemplar)}`).toBe(exemplar.labels.span_id);
        }
      }
    }
  });
});
