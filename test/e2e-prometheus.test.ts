// End to end, as in production: the example apps run as their own processes on the built packages with the
// environment compose gives them, a real Prometheus with the feature flags compose gives it scrapes them with the
// docker stack's scrape config (DNS discovery swapped for local targets), and every query of the Grafana
// dashboard is answered from what it scraped, exemplars included.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { panelQueries } from '../docker/dashboard-queries.js';
import { ok, PROMETHEUS_LISTENING, type Proc, Processes, type PromSample, promQuery, sleep, stop } from './helpers/processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Debian 13's Prometheus (2.53): the docker config keeps classic buckets beside native ones
// (scrape_classic_histograms, 2.45+), which Debian 12's 2.42 rejects (.ci/prometheus-native).
const PROMETHEUS = join(process.env.PROMHTTP_DEBIAN13 ?? '/opt/prom-http-debian13', 'usr', 'bin', 'prometheus');
const hasPrometheus = existsSync(PROMETHEUS);
if (!hasPrometheus && process.env.CI) throw new Error(`${PROMETHEUS} is missing: .ci/run unpacks it with .ci/prometheus-native`);
if (!hasPrometheus) console.warn('e2e-prometheus.test.ts: no Prometheus 2.53 (bash .ci/prometheus-native), skipping');

interface ScrapeConfig {
  job_name: string;
  dns_sd_configs?: Array<{ names: string[] }>;
  [field: string]: unknown;
}
interface PrometheusConfig {
  global?: Record<string, unknown>;
  scrape_configs: ScrapeConfig[];
  [field: string]: unknown;
}
interface Compose {
  services: Record<string, { build?: { args?: Record<string, string> }; environment?: Record<string, string>; command?: string[] }>;
}

/** A native histogram in a query's result: `buckets` are [boundary rule, lower, upper, count]. */
interface NativeHistogram {
  count: string;
  sum: string;
  buckets?: Array<[number, string, string, string]>;
}

/** A sample of a query's vector: a native histogram has `histogram` in place of `value`. */
type Sample = Omit<PromSample, 'value'> & { value?: PromSample['value']; histogram?: [number, NativeHistogram] };

interface Exemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}

interface App {
  job: string;
  service: string;
  example: string;
  port: number;
  url: string;
  proc: Proc;
}

/** One wave of traffic, sent to each app: every kind of route the dashboard shows, including 404s and a 500. */
const WAVE: Array<{ method: 'GET' | 'POST'; path: string; status: number }> = [
  { method: 'GET', path: '/', status: 200 },
  { method: 'GET', path: '/api/users', status: 200 },
  { method: 'GET', path: '/api/users/1', status: 200 },
  { method: 'GET', path: '/api/users/2', status: 200 },
  { method: 'GET', path: '/api/users/42', status: 200 },
  { method: 'GET', path: '/api/users/999', status: 404 },
  { method: 'POST', path: '/api/users', status: 201 },
  { method: 'GET', path: '/slow?ms=300', status: 200 },
  { method: 'GET', path: '/boom', status: 500 },
  { method: 'GET', path: '/no-such-page', status: 404 },
];
// Waves further apart than the 1 s scrape interval, so that every series moves between two scrapes and each
// rate() of the dashboard has a non-zero increase to show.
const WAVES = 4;
const WAVE_GAP_MS = 1300;

const apps: App[] = [];
let dir = '';
let prometheusUrl = '';
const started = Date.now() / 1000;
/** trace id -> span id of the traceparent header of every request sent, per job. */
const traces = new Map<string, Map<string, string>>();

const processes = new Processes();
const start = processes.start.bind(processes);
const eventually = processes.eventually.bind(processes);
const listeningPort = processes.listeningPort.bind(processes);
const query = (expr: string) => promQuery(prometheusUrl, expr);

/** The value of each series, keyed by its `job` label ('' for a series without one). */
async function byJob(expr: string): Promise<Record<string, number>> {
  return Object.fromEntries((await query(expr)).map((s) => [s.metric.job ?? '', Number(s.value[1])]));
}

function perJob(value: number): Record<string, number> {
  return Object.fromEntries(apps.map((app) => [app.job, value]));
}

/** What Grafana asks for a panel with exemplars on: the exemplars of the series `expr` selects, over the test. */
async function queryExemplars(expr: string): Promise<Array<{ seriesLabels: Record<string, string>; exemplars: Exemplar[] }>> {
  const params = new URLSearchParams({ query: expr, start: String(started - 60), end: String(Date.now() / 1000 + 60) });
  const res = await fetch(`${prometheusUrl}/api/v1/query_exemplars?${params}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: Array<{ seriesLabels: Record<string, string>; exemplars: Exemplar[] }>;
  };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`exemplars of ${expr}: ${body.error ?? res.status}`);
  return body.data;
}

describe.skipIf(!hasPrometheus)('a real Prometheus scraping the example apps', () => {
  const sent = new Map<string, number>();

  beforeAll(async () => {
    const unbuilt = ['core', 'express', 'fastify'].filter((p) => !existsSync(join(ROOT, 'packages', p, 'dist', 'index.js')));
    if (unbuilt.length > 0) {
      throw new Error(`packages not built (${unbuilt.join(', ')}): the examples import the builds; run \`pnpm run build\` first`);
    }
    dir = mkdtempSync(join(tmpdir(), 'prom-http-e2e-'));

    // Which example each scrape job watches: its DNS name is a compose service, built with EXAMPLE=<example> and
    // run with the environment the service sets (the port aside).
    const compose = parse(readFileSync(join(ROOT, 'docker', 'compose.yaml'), 'utf8'), { merge: true }) as Compose;
    const dockerConfig = parse(readFileSync(join(ROOT, 'docker', 'prometheus', 'prometheus.yml'), 'utf8')) as PrometheusConfig;
    for (const job of dockerConfig.scrape_configs) {
      for (const service of job.dns_sd_configs?.flatMap((sd) => sd.names) ?? []) {
        const example = compose.services[service]?.build?.args?.EXAMPLE;
        if (example === undefined) throw new Error(`job ${job.job_name}: compose service ${service} builds no example`);
        const env = { ...compose.services[service]?.environment, PORT: '0', HOST: '127.0.0.1' };
        const proc = start(service, process.execPath, [join('examples', example, 'server.mjs')], env);
        const port = await listeningPort(proc, /metrics at http:\/\/[^:]+:(\d+)/);
        apps.push({ job: job.job_name, service, example, port, url: `http://127.0.0.1:${port}`, proc });
      }
    }
    expect(apps.map((a) => a.example).sort()).toEqual(['express-basic', 'fastify-basic']);

    // Same jobs, same everything else; only the discovery is local, and the scrapes are faster so the test is short.
    // Jobs without DNS discovery would scrape something that does not run here: left out.
    const config: PrometheusConfig = {
      ...dockerConfig,
      global: { ...dockerConfig.global, scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: dockerConfig.scrape_configs
        .filter((job) => job.dns_sd_configs !== undefined)
        .map(({ dns_sd_configs: _dns, ...job }) => ({
          ...job,
          scrape_interval: '1s',
          static_configs: [{ targets: apps.filter((a) => a.job === job.job_name).map((a) => `127.0.0.1:${a.port}`) }],
        })),
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const features = (compose.services.prometheus?.command ?? []).filter((arg) => arg.startsWith('--enable-feature='));
    expect(features).not.toEqual([]);
    const prometheus = start('prometheus', PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      ...features,
    ]);
    prometheusUrl = `http://127.0.0.1:${await listeningPort(prometheus, PROMETHEUS_LISTENING)}`;

    await Promise.all(apps.map((app) => eventually(`${app.service} answering on ${app.url}/metrics`, () => ok(`${app.url}/metrics`))));
    await eventually('Prometheus ready', () => ok(`${prometheusUrl}/-/ready`), 30_000);
    // Traffic only once every target has been scraped, so that it all lands between scrapes.
    await eventually('every target up', async () => {
      const up = await byJob('up');
      return apps.every((app) => up[app.job] === 1) ? true : undefined;
    });

    for (let wave = 0; wave < WAVES; wave++) {
      if (wave > 0) await sleep(WAVE_GAP_MS);
      await Promise.all(
        apps.flatMap((app) =>
          WAVE.map(async ({ method, path, status }) => {
            // As docker/loadgen/loadgen.mjs sends it: fresh ids, sampled.
            const traceId = randomBytes(16).toString('hex');
            const spanId = randomBytes(8).toString('hex');
            traces.set(app.job, (traces.get(app.job) ?? new Map()).set(traceId, spanId));
            const res = await fetch(app.url + path, {
              method,
              headers: {
                traceparent: `00-${traceId}-${spanId}-01`,
                ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
              },
              ...(method === 'POST' ? { body: JSON.stringify({ name: 'e2e' }) } : {}),
            });
            await res.arrayBuffer();
            expect(res.status, `${app.service} ${method} ${path}`).toBe(status);
            sent.set(app.job, (sent.get(app.job) ?? 0) + 1);
          }),
        ),
      );
    }
    // Everything sent has been scraped; then two more scrapes, so that the last wave's increase is inside each rate().
    const expected = Object.fromEntries(sent);
    await eventually('Prometheus has scraped every request', async () => {
      const totals = await byJob('sum by (job) (http_request_total)');
      return apps.every((app) => totals[app.job] === expected[app.job]) ? true : undefined;
    });
    await sleep(2200);
  }, 90_000);

  afterAll(async () => {
    await processes.stopAll();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('started the apps as a user would, each printing the URL of its metrics', () => {
    for (const app of apps) expect(app.proc.output).toContain(`http://127.0.0.1:${app.port}/metrics`);
  });

  it('counts exactly the requests sent: the scrapes of /metrics are never recorded', async () => {
    const perApp = WAVES * WAVE.length;
    expect(Object.fromEntries(sent)).toEqual(perJob(perApp));
    const jobs = apps.map((a) => a.job).join('|');
    const total = await query(`sum(http_request_total{job=~"${jobs}"})`);
    expect(total.map((s) => Number(s.value[1]))).toEqual([perApp * apps.length]);
    expect(await byJob('sum by (job) (http_request_duration_seconds_count)')).toEqual(perJob(perApp));
    // The same requests in the native histogram Prometheus keeps beside the classic buckets.
    expect(await byJob('histogram_count(sum by (job) (http_request_duration_seconds))')).toEqual(perJob(perApp));
    // Prometheus scraped each app many times by now; none of those scrapes shows up under any label.
    const scrapes = await byJob(`count_over_time(up{job=~"${jobs}"}[1m])`);
    for (const app of apps) expect(scrapes[app.job], `${app.job} scrapes`).toBeGreaterThanOrEqual(5);
    expect(await query('http_request_total{path="/metrics"}')).toEqual([]);
  });

  it('labels them by route template, method and status, with exceptions counted apart', async () => {
    expect(await byJob('sum by (job) (http_request_total{path="/api/users/:id", method="GET", status="200"})')).toEqual(perJob(3 * WAVES));
    expect(await byJob('sum by (job) (http_request_total{path="/api/users/:id", status="404"})')).toEqual(perJob(WAVES));
    expect(await byJob('sum by (job) (http_request_total{path="/api/users", method="POST", status="201"})')).toEqual(perJob(WAVES));
    expect(await byJob('sum by (job) (http_request_total{path="<unmatched>", status="404"})')).toEqual(perJob(WAVES));
    expect(await byJob('sum by (job) (http_request_total{status=~"5.."})')).toEqual(perJob(WAVES));
    expect(await byJob('sum by (job) (http_request_total{path="/boom", status="500"})')).toEqual(perJob(WAVES));
    expect(await byJob('sum by (job) (http_request_exceptions_total)')).toEqual(perJob(WAVES));
    // At least the 300 ms requests are above the 0.25 s bucket (a busy machine may push a fast one over too).
    const slow = await byJob(
      'sum by (job) (http_request_duration_seconds_count) - sum by (job) (http_request_duration_seconds_bucket{le="0.25"})',
    );
    for (const app of apps) expect(slow[app.job], app.job).toBeGreaterThanOrEqual(WAVES);
  });

  it('answers every query of the Grafana dashboard with data', async () => {
    const queries = panelQueries();
    expect(queries.length).toBeGreaterThan(10);
    const empty: string[] = [];
    for (const { panel, refId, expr } of queries) {
      const result: Sample[] = await query(expr);
      // An empty vector, only NaN (a 0/0 ratio), or only empty native histograms is a panel with nothing to draw.
      const drawn = result.some((s) =>
        s.histogram === undefined ? Number.isFinite(Number(s.value?.[1])) : Number(s.histogram[1].count) > 0,
      );
      if (!drawn) empty.push(`${panel} ${refId}: ${expr} → ${JSON.stringify(result)}`);
    }
    expect(empty).toEqual([]);
  });

  it("shows the native histogram in the heatmap: a histogram counting the last minute's requests, in fine buckets", async () => {
    const heatmaps = panelQueries().filter((q) => q.panelType === 'heatmap');
    expect(heatmaps).toHaveLength(1);
    const [heatmap] = heatmaps;
    const result: Sample[] = await query(heatmap?.expr ?? '');
    expect(result).toHaveLength(1);
    const histogram = result[0]?.histogram?.[1];
    // The same requests as the classic histogram's count, from the same scrapes. rate() extrapolates the two
    // differently towards the window's start (a float counter no further than where it would reach zero), by at
    // most 1.1 scrape intervals of the several seconds the series cover.
    const [classic] = await query('sum(rate(http_request_duration_seconds_count[1m]))');
    expect(Number(classic?.value[1])).toBeGreaterThan(0);
    expect(Number(histogram?.count) / Number(classic?.value[1])).toBeGreaterThan(0.8);
    expect(Number(histogram?.count) / Number(classic?.value[1])).toBeLessThan(1.25);
    // Native buckets (factor about 1.09): many more than the classic histogram's, each narrow.
    const buckets = (histogram?.buckets ?? []).filter(([, , , count]) => Number(count) > 0);
    expect(buckets.length).toBeGreaterThan(10);
    for (const [, lower, upper] of buckets) {
      if (Number(lower) > 0) expect(Number(upper) / Number(lower), `${lower}..${upper}`).toBeLessThan(1.1);
    }
  });

  it("shows exemplars on the latency panels: the trace and span ids of the requests' traceparent headers", async () => {
    const withExemplars = panelQueries().filter((q) => q.exemplar);
    expect(withExemplars.map((q) => q.panel)).toEqual([
      ...Array(3).fill('Latency p50 / p90 / p99'),
      'Latency distribution (native histogram)',
    ]);
    for (const { refId, expr } of withExemplars) {
      const series = await queryExemplars(expr);
      for (const app of apps) {
        const found = series.filter((s) => s.seriesLabels.job === app.job).flatMap((s) => s.exemplars);
        expect(found.length, `${refId} ${app.job}`).toBeGreaterThan(0);
        const sent = traces.get(app.job) ?? new Map<string, string>();
        for (const exemplar of found) {
          expect(sent.get(exemplar.labels.trace_id ?? ''), `${refId}: ${JSON.stringify(exemplar)}`).toBe(exemplar.labels.span_id);
        }
      }
    }
  });

  it('shows the traffic in the dashboard queries: rates, errors, the latency quantiles', async () => {
    const rates = await query('sum by (job, path) (rate(http_request_total[1m]))');
    for (const app of apps) {
      const paths = rates.filter((s) => s.metric.job === app.job && Number(s.value[1]) > 0).map((s) => s.metric.path);
      expect(paths.sort(), app.job).toEqual(['/', '/api/users', '/api/users/:id', '/boom', '/slow', '<unmatched>'].sort());
    }
    const p99 = await byJob('histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[1m])))');
    // A tenth of the requests take 300 ms: the 99th percentile is above the 0.25 s bucket, and far from the top ones.
    for (const app of apps) {
      expect(p99[app.job], app.job).toBeGreaterThan(0.25);
      expect(p99[app.job], app.job).toBeLessThan(1);
    }
  });

  it('shuts the apps down cleanly on SIGTERM', async () => {
    const codes = await Promise.all(apps.map((app) => stop(app.proc)));
    for (const [i, app] of apps.entries()) expect(codes[i], `${app.service} exit code\n${app.proc.output}`).toBe(0);
  });
});
