// End to end, as in production: the example apps run as their own processes on the built packages, a real
// Prometheus scrapes them with the docker stack's scrape config (DNS discovery swapped for local targets), and
// every query of the Grafana dashboard is answered from what it scraped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { panelQueries } from '../docker/dashboard-queries.js';
import { ok, PROMETHEUS_LISTENING, type Proc, Processes, promQuery, sleep, stop } from './helpers/processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;
if (!hasPrometheus && process.env.CI) throw new Error('prometheus is missing: .ci/run installs the Debian package prometheus');
if (!hasPrometheus) console.warn('e2e-prometheus.test.ts: prometheus not found, skipping (apt-get install prometheus)');

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
  services: Record<string, { build?: { args?: Record<string, string> } }>;
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

describe.skipIf(!hasPrometheus)('a real Prometheus scraping the example apps', () => {
  const sent = new Map<string, number>();

  beforeAll(async () => {
    const unbuilt = ['core', 'express', 'fastify'].filter((p) => !existsSync(join(ROOT, 'packages', p, 'dist', 'index.js')));
    if (unbuilt.length > 0) {
      throw new Error(`packages not built (${unbuilt.join(', ')}): the examples import the builds; run \`pnpm run build\` first`);
    }
    dir = mkdtempSync(join(tmpdir(), 'prom-http-e2e-'));

    // Which example each scrape job watches: its DNS name is a compose service, built with EXAMPLE=<example>.
    const compose = parse(readFileSync(join(ROOT, 'docker', 'compose.yaml'), 'utf8'), { merge: true }) as Compose;
    const dockerConfig = parse(readFileSync(join(ROOT, 'docker', 'prometheus', 'prometheus.yml'), 'utf8')) as PrometheusConfig;
    for (const job of dockerConfig.scrape_configs) {
      for (const service of job.dns_sd_configs?.flatMap((sd) => sd.names) ?? []) {
        const example = compose.services[service]?.build?.args?.EXAMPLE;
        if (example === undefined) throw new Error(`job ${job.job_name}: compose service ${service} builds no example`);
        const proc = start(service, process.execPath, [join('examples', example, 'server.mjs')], { PORT: '0', HOST: '127.0.0.1' });
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
    const prometheus = start('prometheus', 'prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
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
            const res = await fetch(app.url + path, {
              method,
              ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'e2e' }) } : {}),
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
      const result = await query(expr);
      // An empty vector, or only NaN (a 0/0 ratio), is a panel with nothing to draw.
      if (!result.some((s) => Number.isFinite(Number(s.value[1])))) empty.push(`${panel} ${refId}: ${expr} → ${JSON.stringify(result)}`);
    }
    expect(empty).toEqual([]);
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
