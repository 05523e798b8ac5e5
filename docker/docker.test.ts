// The docker stack cannot run here (no Docker engine in CI), so its files are checked with the tools that read
// them: promtool for the Prometheus config and every dashboard query, the yaml parser for compose and Grafana
// provisioning, the file system for every path they name; the load generator runs against a local server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARD_PATH, type Dashboard, loadDashboard, panelQueries } from './dashboard-queries.js';

const DOCKER_DIR = dirname(fileURLToPath(import.meta.url));
const at = (...parts: string[]) => join(DOCKER_DIR, ...parts);

// Debian 13's promtool (2.53): the config keeps classic buckets beside native ones (scrape_classic_histograms,
// 2.45+), a field Debian 12's 2.42 rejects (.ci/prometheus-native).
const PROMTOOL = join(process.env.PROMHTTP_DEBIAN13 ?? '/opt/prom-http-debian13', 'usr', 'bin', 'promtool');
const hasPromtool = existsSync(PROMTOOL);
if (!hasPromtool && process.env.CI) throw new Error(`${PROMTOOL} is missing: .ci/run unpacks it with .ci/prometheus-native`);
if (!hasPromtool) console.warn('docker.test.ts: no promtool 2.53 (bash .ci/prometheus-native), skipping the promtool checks');

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(PROMTOOL, args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

// ─── compose ──────────────────────────────────────────────────────────────────────────────────────

interface Mount {
  type: string;
  source: string;
  target: string;
}

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; args?: Record<string, string> };
  command?: string | string[];
  environment?: Record<string, string> | string[];
  expose?: Array<string | number>;
  ports?: Array<string | { host_ip?: string; published?: string | number; target?: number }>;
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  deploy?: { replicas?: number };
  healthcheck?: { test?: string | string[] };
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = readFileSync(at('compose.yaml'), 'utf8');
// Compose resolves `<<:` merge keys (YAML 1.1), which the yaml package leaves off by default.
const compose = parse(composeText, { merge: true }) as Compose;
const services = Object.entries(compose.services ?? {});
const appServices = services.filter(([, s]) => s.build !== undefined);

function service(name: string): Service {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`compose.yaml has no service ${name}`);
  return s;
}

function env(s: Service): Record<string, string> {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(s.environment.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

function mounts(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { type: v.type ?? 'volume', source: v.source ?? '', target: v.target };
    const [source = '', target = ''] = v.split(':');
    return { type: /^[./~]/.test(source) ? 'bind' : 'volume', source, target };
  });
}

/** The host path behind `containerPath` in service `s`, through its bind mounts; null when none covers it. */
function hostPath(s: Service, containerPath: string): string | null {
  for (const m of mounts(s)) {
    if (m.type !== 'bind') continue;
    if (containerPath === m.target || containerPath.startsWith(`${m.target}/`)) {
      return join(resolve(DOCKER_DIR, m.source), posix.relative(m.target, containerPath));
    }
  }
  return null;
}

function buildOf(s: Service): { context: string; dockerfile: string; args: Record<string, string> } {
  const build = typeof s.build === 'string' ? { context: s.build } : (s.build ?? {});
  const context = resolve(DOCKER_DIR, build.context ?? '.');
  return { context, dockerfile: resolve(context, build.dockerfile ?? 'Dockerfile'), args: build.args ?? {} };
}

function commandOf(s: Service): string[] {
  if (s.command === undefined) return [];
  return typeof s.command === 'string' ? s.command.split(/\s+/) : s.command;
}

function dependsOn(s: Service): string[] {
  if (s.depends_on === undefined) return [];
  return Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on);
}

describe('compose.yaml', () => {
  it('defines the apps, the load generator, Prometheus and Grafana, each with an image or a build', () => {
    expect(services.map(([name]) => name).sort()).toEqual(['express-app', 'fastify-app', 'grafana', 'loadgen', 'prometheus']);
    for (const [name, s] of services) {
      expect(s.image !== undefined || s.build !== undefined, `${name}: image or build`).toBe(true);
      if (s.image !== undefined) expect(s.image, `${name}: pinned image tag`).toMatch(/^[\w./-]+:[\w.-]+$/);
    }
  });

  it('uses only interpolations compose accepts', () => {
    // A lone `$` (say in a shell or JS snippet) is interpolation to compose: it must be `$$` or `${NAME}`.
    const dollars = composeText.replace(/\$\$|\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?+][^}]*)?\}|\$[A-Za-z_][A-Za-z0-9_]*/g, '');
    expect(dollars).not.toContain('$');
  });

  it('builds each example app from docker/Dockerfile, in two or more replicas, with a port and a health check', () => {
    expect(appServices.map(([name]) => name).sort()).toEqual(['express-app', 'fastify-app']);
    for (const [name, s] of appServices) {
      const { context, dockerfile, args } = buildOf(s);
      expect(statSync(context).isDirectory(), `${name}: build context ${context}`).toBe(true);
      expect(existsSync(join(context, 'pnpm-workspace.yaml')), `${name}: the context is the workspace root`).toBe(true);
      expect(dockerfile).toBe(at('Dockerfile'));
      expect(args.EXAMPLE, `${name}: build arg EXAMPLE`).toBeTruthy();
      expect(
        existsSync(join(context, 'examples', String(args.EXAMPLE), 'server.mjs')),
        `${name}: examples/${args.EXAMPLE}/server.mjs`,
      ).toBe(true);
      expect(s.deploy?.replicas, `${name}: replicas`).toBeGreaterThanOrEqual(2);
      const port = env(s).PORT;
      expect(port, `${name}: PORT`).toMatch(/^\d+$/);
      expect((s.expose ?? []).map(String), `${name}: expose`).toContain(port);
      // Replicas cannot share a host port: the apps are reached on the compose network only.
      expect(s.ports, `${name}: no published ports`).toBeUndefined();
      expect(JSON.stringify(s.healthcheck?.test), `${name}: health check on /metrics`).toContain('/metrics');
    }
    expect(new Set(appServices.map(([, s]) => env(s).PORT)).size, 'distinct ports').toBe(appServices.length);
  });

  it('has every bind-mounted host path, and declares every named volume', () => {
    for (const [name, s] of services) {
      for (const m of mounts(s)) {
        expect(m.target, `${name}: mount target`).toMatch(/^\//);
        if (m.type === 'bind') expect(existsSync(resolve(DOCKER_DIR, m.source)), `${name}: host path ${m.source}`).toBe(true);
        else expect(Object.keys(compose.volumes ?? {}), `${name}: named volume ${m.source}`).toContain(m.source);
      }
    }
  });

  it('depends only on services it defines, and publishes ports on 127.0.0.1 only', () => {
    for (const [name, s] of services) {
      for (const dep of dependsOn(s)) expect(compose.services[dep], `${name} depends on ${dep}`).toBeDefined();
      for (const p of s.ports ?? [])
        expect(typeof p === 'string' ? p : p.host_ip, `${name}: port ${JSON.stringify(p)}`).toMatch(/^127\.0\.0\.1/);
    }
  });

  it('runs Prometheus with native histograms and exemplar storage, and the apps with both options on', () => {
    const features = commandOf(service('prometheus'))
      .filter((arg) => arg.startsWith('--enable-feature='))
      .flatMap((arg) => arg.slice('--enable-feature='.length).split(','));
    expect(features.sort()).toEqual(['exemplar-storage', 'native-histograms']);
    for (const [name, s] of appServices) {
      expect(env(s).NATIVE_HISTOGRAMS, `${name}: NATIVE_HISTOGRAMS`).toBe('1');
      expect(env(s).EXEMPLARS, `${name}: EXEMPLARS`).toBe('1');
    }
  });

  it('runs the load generator script from its mount against every app service on its port', () => {
    const loadgen = service('loadgen');
    const script = commandOf(loadgen).find((arg) => arg.endsWith('.mjs'));
    expect(script).toBeDefined();
    const host = hostPath(loadgen, script as string);
    expect(host).toBe(at('loadgen', 'loadgen.mjs'));
    expect(existsSync(host as string)).toBe(true);
    const targets = env(loadgen).TARGETS?.split(',') ?? [];
    expect(targets.sort()).toEqual(appServices.map(([name, s]) => `http://${name}:${env(s).PORT}`).sort());
    expect(dependsOn(loadgen).sort()).toEqual(appServices.map(([name]) => name).sort());
  });
});

describe('docker/Dockerfile', () => {
  const dockerfile = readFileSync(at('Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('copies only paths that exist in the build context', () => {
    const context = resolve(DOCKER_DIR, '..');
    const copies = instructions.filter((line) => /^COPY\s/i.test(line) && !/--from=/.test(line));
    expect(copies.length).toBeGreaterThan(0);
    for (const line of copies) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) expect(existsSync(join(context, source)), `${line}: ${source}`).toBe(true);
    }
  });

  it('installs with the lockfile, builds, and runs the example its EXAMPLE argument names', () => {
    expect(instructions.some((line) => /pnpm install --frozen-lockfile/.test(line) && /pnpm run build/.test(line))).toBe(true);
    expect(instructions).toContain('ARG EXAMPLE=express-basic');
    const cmd = instructions.find((line) => line.startsWith('CMD '));
    expect(JSON.parse((cmd as string).slice(4))).toEqual(['sh', '-c', `exec node examples/$\{EXAMPLE}/server.mjs`]);
    for (const from of instructions.filter((line) => line.startsWith('FROM ')))
      expect(from).toMatch(/^FROM node:\$\{NODE_VERSION\}-[\w.-]+/);
  });

  it('has an ignore file keeping host installs and builds out of the context', () => {
    const ignored = readFileSync(at('Dockerfile.dockerignore'), 'utf8').split('\n');
    expect(ignored).toContain('**/node_modules');
    expect(ignored).toContain('**/dist');
  });
});

// ─── Prometheus ───────────────────────────────────────────────────────────────────────────────────

interface ScrapeConfig {
  job_name: string;
  dns_sd_configs?: Array<{ names: string[]; type?: string; port?: number }>;
  static_configs?: Array<{ targets: string[] }>;
  scrape_classic_histograms?: boolean;
}
const prometheusConfig = parse(readFileSync(at('prometheus', 'prometheus.yml'), 'utf8')) as { scrape_configs: ScrapeConfig[] };

describe('prometheus/prometheus.yml', () => {
  it.skipIf(!hasPromtool)('passes promtool check config', () => {
    const { status, output } = promtool('check', 'config', at('prometheus', 'prometheus.yml'));
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('finds every replica of every app service through DNS (type A) on the port the app listens on', () => {
    const jobs = prometheusConfig.scrape_configs;
    const scraped = new Set<string>();
    for (const job of jobs) {
      for (const sd of job.dns_sd_configs ?? []) {
        expect(sd.type, job.job_name).toBe('A');
        for (const name of sd.names) {
          expect(String(sd.port), `${job.job_name}: port of ${name}`).toBe(env(service(name)).PORT);
          scraped.add(name);
        }
      }
    }
    expect([...scraped].sort()).toEqual(appServices.map(([name]) => name).sort());
    expect(new Set(jobs.map((j) => j.job_name)).size).toBe(jobs.length);
  });

  it('keeps the classic buckets beside the native histograms in every job, for the panels on _bucket', () => {
    for (const job of prometheusConfig.scrape_configs) expect(job.scrape_classic_histograms, job.job_name).toBe(true);
  });

  it('is the file the prometheus service runs with', () => {
    const prometheus = service('prometheus');
    const flag = commandOf(prometheus).find((arg) => arg.startsWith('--config.file='));
    expect(flag).toBeDefined();
    expect(hostPath(prometheus, (flag as string).slice('--config.file='.length))).toBe(at('prometheus', 'prometheus.yml'));
  });
});

// ─── Grafana ──────────────────────────────────────────────────────────────────────────────────────

const grafana = service('grafana');
const datasources = parse(readFileSync(at('grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as {
  apiVersion: number;
  datasources: Array<{ name: string; uid: string; type: string; url: string; access?: string; isDefault?: boolean }>;
};
const providers = parse(readFileSync(at('grafana', 'provisioning', 'dashboards', 'prom-http.yml'), 'utf8')) as {
  apiVersion: number;
  providers: Array<{ name: string; type: string; options: { path: string } }>;
};
const datasource = datasources.datasources?.[0];

describe('Grafana provisioning', () => {
  it('is mounted where Grafana reads provisioning from', () => {
    expect(hostPath(grafana, '/etc/grafana/provisioning')).toBe(at('grafana', 'provisioning'));
  });

  it('provisions one Prometheus datasource, with a fixed uid, pointing at the prometheus service', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    expect(datasource?.type).toBe('prometheus');
    expect(datasource?.uid).toMatch(/^[\w-]{1,40}$/);
    expect(datasource?.access).toBe('proxy');
    const url = new URL(datasource?.url ?? '');
    expect(compose.services[url.hostname], `datasource host ${url.hostname}`).toBeDefined();
    expect(url.hostname).toBe('prometheus');
    // Prometheus listens on 9090 in its container unless told otherwise.
    expect(commandOf(service('prometheus')).some((arg) => arg.startsWith('--web.listen-address'))).toBe(false);
    expect(url.port).toBe('9090');
  });

  it('provisions the dashboards from a folder that holds prom-http.json', () => {
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers.length).toBeGreaterThan(0);
    for (const provider of providers.providers) {
      expect(provider.type).toBe('file');
      const folder = hostPath(grafana, provider.options.path);
      expect(folder, `${provider.name}: ${provider.options.path} is mounted`).toBe(dirname(DASHBOARD_PATH));
      expect(existsSync(join(folder as string, 'prom-http.json'))).toBe(true);
    }
    const home = env(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home && hostPath(grafana, home)).toBe(DASHBOARD_PATH);
  });
});

// ─── the dashboard ────────────────────────────────────────────────────────────────────────────────

const dashboard: Dashboard = loadDashboard();
const panels = dashboard.panels ?? [];
const queries = panelQueries(dashboard);

describe('grafana/dashboards/prom-http.json', () => {
  it('is a dashboard Grafana 10/11 loads as is', () => {
    expect(dashboard.uid).toBe('prom-http');
    expect(dashboard.title).toBe('prom-http');
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.time).toEqual({ from: 'now-15m', to: 'now' });
    expect(dashboard.templating).toEqual({ list: [] });
    expect(panels.length).toBeGreaterThan(0);
  });

  it('has unique panel ids, known panel types and a gridPos inside the 24 columns without overlaps', () => {
    const ids = panels.map((p) => p.id);
    for (const id of ids) expect(Number.isInteger(id) && (id as number) > 0, `panel id ${id}`).toBe(true);
    expect(new Set(ids).size).toBe(panels.length);
    const boxes: Array<{ title: string; x: number; y: number; w: number; h: number }> = [];
    for (const panel of panels) {
      expect(['heatmap', 'stat', 'timeseries'], panel.title).toContain(panel.type);
      expect(panel.title, `panel ${panel.id} title`).toBeTruthy();
      const { x, y, w, h } = panel.gridPos ?? {};
      for (const v of [x, y, w, h]) expect(Number.isInteger(v), `${panel.title}: gridPos ${JSON.stringify(panel.gridPos)}`).toBe(true);
      const box = { title: panel.title ?? '', x: x as number, y: y as number, w: w as number, h: h as number };
      expect(box.x >= 0 && box.y >= 0 && box.w > 0 && box.h > 0 && box.x + box.w <= 24, `${box.title}: ${JSON.stringify(box)}`).toBe(true);
      for (const other of boxes) {
        const overlap = box.x < other.x + other.w && other.x < box.x + box.w && box.y < other.y + other.h && other.y < box.y + box.h;
        expect(overlap, `${box.title} overlaps ${other.title}`).toBe(false);
      }
      boxes.push(box);
    }
  });

  it('queries the provisioned datasource by uid, with a non-empty expression in every target', () => {
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: datasource?.uid });
      expect(panel.targets?.length, `${panel.title}: targets`).toBeGreaterThan(0);
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, `${panel.title}: refIds`).toBe(refIds.length);
      for (const target of panel.targets ?? []) {
        expect(target.datasource, `${panel.title} ${target.refId}`).toEqual({ type: 'prometheus', uid: datasource?.uid });
        expect(target.expr?.trim(), `${panel.title} ${target.refId}: expr`).toBeTruthy();
        expect(target.refId).toMatch(/^[A-Z]$/);
      }
    }
    expect(queries).toHaveLength(panels.reduce((n, p) => n + (p.targets?.length ?? 0), 0));
  });

  it('has runnable PromQL: no Grafana variables (the end-to-end test runs the queries as they are)', () => {
    for (const { panel, expr } of queries) expect(expr, panel).not.toMatch(/\$/);
  });

  it('shows traffic, errors, latency, saturation and the process resources', () => {
    const all = queries.map((q) => q.expr);
    const has = (pattern: RegExp) =>
      expect(
        all.some((expr) => pattern.test(expr)),
        String(pattern),
      ).toBe(true);
    has(/^sum by \(job, path\) \(rate\(http_request_total\[1m\]\)\)$/);
    has(/rate\(http_request_total\{status=~"5\.\."\}\[1m\]\)/);
    has(/rate\(http_request_duration_seconds_sum\[1m\]\)\) \/ sum by \(job, path\) \(rate\(http_request_duration_seconds_count\[1m\]\)\)/);
    for (const q of ['0.5', '0.9', '0.99'])
      has(new RegExp(`^histogram_quantile\\(${q.replace('.', '\\.')}, .*http_request_duration_seconds_bucket`));
    has(/http_request_duration_seconds_bucket\{le="0\.25"\}.* \/ .*http_request_duration_seconds_count/);
    has(/http_requests_in_progress/);
    has(/rate\(http_request_exceptions_total\[1m\]\)/);
    has(/by \(job, instance\) \(process_resident_memory_bytes\)/);
    has(/by \(job, instance\) \(rate\(process_cpu_seconds_total\[1m\]\)\)/);
  });

  it('has a heatmap of the native duration histogram, its buckets drawn as they are', () => {
    const heatmaps = panels.filter((p) => p.type === 'heatmap');
    expect(heatmaps).toHaveLength(1);
    const [heatmap] = heatmaps;
    // Grafana draws the buckets of the query's native histogram; calculating its own from series would be wrong.
    expect(heatmap?.options?.calculate).toBe(false);
    expect(heatmap?.targets?.map((t) => [t.expr, t.format])).toEqual([['sum(rate(http_request_duration_seconds[1m]))', 'heatmap']]);
  });

  it('asks for exemplars on every target of the latency quantiles and of the heatmap, and nowhere else', () => {
    const withExemplars = panels.filter((p) => (p.targets ?? []).some((t) => t.exemplar === true));
    expect(withExemplars.map((p) => p.type)).toEqual(['timeseries', 'heatmap']);
    for (const panel of withExemplars) {
      expect(
        panel.targets?.every((t) => t.exemplar === true),
        panel.title,
      ).toBe(true);
      for (const target of panel.targets ?? []) expect(target.expr, panel.title).toMatch(/http_request_duration_seconds(_bucket)?\[1m\]/);
    }
    expect(withExemplars[0]?.targets?.map((t) => t.expr)).toEqual(
      ['0.5', '0.9', '0.99'].map((q) => `histogram_quantile(${q}, sum by (job, le) (rate(http_request_duration_seconds_bucket[1m])))`),
    );
  });

  it.skipIf(!hasPromtool)('has only expressions promtool parses (one recording rule each)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-http-dashboard-'));
    try {
      const file = join(dir, 'dashboard-rules.yml');
      const rules = queries.map(
        (q, i) => `      - record: dashboard:panel_${q.panelId}_${q.refId}:${i}\n        expr: ${JSON.stringify(q.expr)}`,
      );
      writeFileSync(file, `groups:\n  - name: prom-http-dashboard\n    rules:\n${rules.join('\n')}\n`);
      const { status, output } = promtool('check', 'rules', file);
      expect(status, output).toBe(0);
      expect(output).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasPromtool)('fails the promtool check on a broken expression (the check above can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-http-dashboard-'));
    try {
      const file = join(dir, 'broken-rules.yml');
      writeFileSync(
        file,
        'groups:\n  - name: broken\n    rules:\n      - record: broken:rate\n        expr: "sum by (path (rate(http_request_total[1m]))"\n',
      );
      const { status, output } = promtool('check', 'rules', file);
      expect(status).not.toBe(0);
      expect(output).toMatch(/parse error/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ─── the load generator ───────────────────────────────────────────────────────────────────────────

describe('loadgen/loadgen.mjs', () => {
  it('sends every request with a sampled W3C traceparent of fresh ids, which the apps make exemplars of', async () => {
    const traceparents: string[] = [];
    const server = createServer(function record(req, res) {
      traceparents.push(String(req.headers.traceparent));
      req.resume();
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const child = spawn(process.execPath, [at('loadgen', 'loadgen.mjs')], {
        env: { ...process.env, TARGETS: `http://127.0.0.1:${port}`, RPS: '20', DURATION: '1' },
        stdio: 'ignore',
      });
      expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    } finally {
      server.close();
    }
    expect(traceparents.length).toBeGreaterThan(5);
    for (const header of traceparents) expect(header).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
    expect(new Set(traceparents.map((h) => h.slice(3, 35))).size).toBe(traceparents.length);
  });
});
