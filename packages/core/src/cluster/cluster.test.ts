import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry as PromClientAggregator } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, Summary } from '../../../../test/helpers/client.js';
import { parseExposition, type Sample, sampleValue } from '../../../../test/helpers/exposition.js';
import { freePort } from '../../../../test/helpers/ports.js';
import { decodeFamilies } from '../../../../test/helpers/protobuf.js';
import { PROTOBUF_CONTENT_TYPE } from '../exposition/protobuf.js';
import { ByteWriter } from '../exposition/text-format.js';
import { registerTestFamilies } from '../fixtures/request-families.js';
import { DEFAULT_BUCKETS } from '../options.js';
import type { SeriesStore } from '../request/series-store.js';
import { type AggregatedFamily, asReported, ClusterTables, type Contribution, type Reported, type SourceTable } from './aggregate.js';
import { exactSum as exactSumOf } from './exact-sum.js';
import { FamilyEncoder } from './family-encoding.js';
import { setupClusterPrimary } from './primary.js';
import { renderAggregated } from './render-aggregated.js';
import type { WireFamily } from './wire.js';
import { clusterRenderer } from './worker.js';

// ─── aggregation, in process ───────────────────────────────────────────────────────────────────────

/**
 * The registry of one "worker": our request families and prom-client metrics of every aggregator. Observations
 * are binary fractions, which any order of summation adds exactly, as prom-client's does.
 */
function workerRegistry(seed: number, contentType: string = Registry.PROMETHEUS_CONTENT_TYPE): Registry {
  const registry = new (Registry as unknown as new (t: string) => Registry)(contentType);
  const { store, inProgress } = registerTestFamilies(registry, '', 'path', [], [], DEFAULT_BUCKETS, true, 10_000, Summary);
  for (let i = 0; i <= seed; i++) store.observe('GET', `/r/${i % 2}`, 200, 0.125 * (i + 1), i === 1, null);
  inProgress.cell('GET').value = seed;
  new Counter({ name: 'jobs_total', help: 'Jobs', labelNames: ['kind'], registers: [registry] }).inc({ kind: `k${seed % 2}` }, seed + 1);
  new Gauge({ name: 'queue_depth', help: 'Queue depth', registers: [registry] }).set(seed * 2);
  for (const aggregator of ['max', 'min', 'first', 'average', 'omit'] as const) {
    new Gauge({ name: `g_${aggregator}`, help: aggregator, aggregator, registers: [registry] }).set(seed + 0.5);
  }
  const histogram = new Histogram({
    name: 'payload_bytes',
    help: 'Payload',
    buckets: [10, 100],
    labelNames: ['route'],
    registers: [registry],
  });
  histogram.observe({ route: 'a' }, 5 * seed);
  histogram.observe({ route: 'b' }, 50);
  return registry;
}

function sumOf(body: string, name: string, labels: Record<string, string> = {}): number {
  return parseExposition(body)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

/** Processes as the primary sees them: each one's encoder, its reports through JSON (the IPC channel), their copy. */
class Processes {
  readonly tables = new ClusterTables();
  private readonly encoders: FamilyEncoder[] = [];
  readonly copies: Array<Map<string, SourceTable>> = [];
  /** The JSON of each process's last report, to see what crossed. */
  readonly sent: string[] = [];

  /** The families of `registry`, reported by process `p` as a worker reports them. */
  async report(p: number, registry: Registry): Promise<Reported[]> {
    this.encoders[p] ??= new FamilyEncoder();
    this.copies[p] ??= new Map();
    this.sent[p] = JSON.stringify(await (this.encoders[p] as FamilyEncoder).collect([registry], null));
    return (JSON.parse(this.sent[p] as string) as WireFamily[]).map((wire) => {
      const reported = this.tables.apply(this.copies[p] as Map<string, SourceTable>, wire);
      if (reported === null) throw new Error(`report of ${wire.n} does not fit`);
      return reported;
    });
  }

  /** The sum of one report of each registry, process `i` reporting `registries[i]`. */
  async sum(registries: readonly Registry[]): Promise<AggregatedFamily[]> {
    const contributions: Contribution[] = [];
    for (const [p, registry] of registries.entries()) contributions.push({ families: await this.report(p, registry), monotonic: false });
    return this.tables.aggregate(contributions);
  }
}

function render(families: readonly AggregatedFamily[], openMetrics = false): string {
  const w = new ByteWriter(16);
  renderAggregated(w, families, [], openMetrics);
  return w.result().toString('utf8');
}

/**
 * The reference sum: prom-client's AggregatorRegistry, whichever client made the registries. The cluster sum is
 * written in its order; @prometheus-io/client's aggregate lists the samples of a histogram in another order (every
 * series' buckets, then the sums and counts), so against that one the lines are compared as a set.
 */
async function aggregatorRegistry(registries: readonly Registry[]): Promise<string> {
  const reports = await Promise.all(registries.map((r) => r.getMetricsAsJSON()));
  const reference = await PromClientAggregator.aggregate(reports).metrics();
  const own = await AggregatorRegistry.aggregate(reports).metrics();
  expect(own.split('\n').sort()).toEqual(reference.split('\n').sort());
  return reference;
}

describe('cluster aggregation', () => {
  it('sums as prom-client AggregatorRegistry does, byte for byte', async () => {
    const registries = [0, 1, 2].map((seed) => workerRegistry(seed));
    const body = render(await new Processes().sum(registries));
    expect(body).toBe(await aggregatorRegistry(registries));

    // seeds 0, 1, 2 observed /r/0 1+1+2 times and /r/1 0+1+1 times.
    expect(sampleValue(body, 'http_request_total', { path: '/r/0' })).toBe(4);
    expect(sampleValue(body, 'http_request_total', { path: '/r/1' })).toBe(2);
    expect(sampleValue(body, 'http_request_exceptions_total', { path: '/r/1' })).toBe(2);
    expect(sampleValue(body, 'http_request_duration_seconds_count', { path: '/r/0' })).toBe(4);
    expect(sampleValue(body, 'http_request_duration_seconds_bucket', { path: '/r/0', le: '0.25' })).toBe(3);
    expect(sampleValue(body, 'http_requests_in_progress', { method: 'GET' })).toBe(3);
    expect(sampleValue(body, 'jobs_total', { kind: 'k0' })).toBe(4);
    expect(sampleValue(body, 'jobs_total', { kind: 'k1' })).toBe(2);
    expect(sampleValue(body, 'queue_depth')).toBe(6);
    expect(sampleValue(body, 'g_max')).toBe(2.5);
    expect(sampleValue(body, 'g_min')).toBe(0.5);
    expect(sampleValue(body, 'g_first')).toBe(0.5);
    expect(sampleValue(body, 'g_average')).toBe(1.5);
    expect(sampleValue(body, 'g_omit')).toBeUndefined();
    expect(sampleValue(body, 'payload_bytes_bucket', { route: 'a', le: '10' })).toBe(3);
    expect(sampleValue(body, 'payload_bytes_bucket', { route: 'b', le: '100' })).toBe(3);
    expect(sampleValue(body, 'payload_bytes_sum', { route: 'a' })).toBe(15);
  });

  it('a sample is one series whatever the order of its labels; it reads as its first reporter wrote it', async () => {
    const registries = [0, 1, 2].map((p) => {
      const registry = new Registry();
      const counter = new Counter({ name: 'orders_total', help: 'Orders', labelNames: ['zone', 'kind', 'app'], registers: [registry] });
      // prom-client keeps the labels of a series in the order of its first inc().
      if (p === 1) counter.inc({ app: 'x', kind: 'k', zone: 'z' }, 2);
      else counter.inc({ zone: 'z', kind: 'k', app: 'x' }, p + 1);
      counter.inc({ kind: `only-${p}`, zone: 'z', app: 'x' });
      registry.setDefaultLabels({ host: `h${p % 2}` });
      return registry;
    });
    // Default labels are part of a sample's identity: h0 (processes 0 and 2) and h1 are two series.
    const body = render(await new Processes().sum(registries));
    expect(body).toBe(await aggregatorRegistry(registries));
    expect(sampleValue(body, 'orders_total', { zone: 'z', kind: 'k', app: 'x', host: 'h0' })).toBe(4);
    expect(sampleValue(body, 'orders_total', { zone: 'z', kind: 'k', app: 'x', host: 'h1' })).toBe(2);
    expect(body).toContain('\norders_total{zone="z",kind="k",app="x",host="h0"} 4\n');
  });

  it('after the first report, a report of the same samples is their values alone; new and removed series still add up', async () => {
    const processes = new Processes();
    const counters: Counter[] = [];
    const registries = [0, 1].map((p) => {
      const registry = new Registry();
      counters.push(new Counter({ name: 'hits_total', help: 'Hits', labelNames: ['route', 'le_x'], registers: [registry] }));
      for (let r = 0; r < 200; r++) (counters[p] as Counter).inc({ route: `/r/${r}`, le_x: 'a"b\\c' }, r + p);
      return registry;
    });
    await processes.sum(registries);
    (counters[0] as Counter).inc({ route: '/r/7', le_x: 'a"b\\c' }, 100);
    let body = render(await processes.sum(registries));
    expect(body).toBe(await aggregatorRegistry(registries));
    expect(sampleValue(body, 'hits_total', { route: '/r/7' })).toBe(7 + 8 + 100);
    const steady = JSON.parse(processes.sent[0] as string) as WireFamily[];
    expect(steady).toEqual([{ n: 'hits_total', h: 'Hits', t: 'counter', a: 'sum', b: 200, v: expect.any(Array) }]);
    expect(steady[0]?.v[7]).toBe(107);

    // A new series is appended to the table; removed ones make the process restart its table.
    (counters[1] as Counter).inc({ route: '/new', le_x: '' });
    for (let r = 0; r < 180; r++) (counters[0] as Counter).remove({ route: `/r/${r}`, le_x: 'a"b\\c' });
    body = render(await processes.sum(registries));
    expect(body).toBe(await aggregatorRegistry(registries));
    expect(sampleValue(body, 'hits_total', { route: '/new' })).toBe(1);
    expect(sampleValue(body, 'hits_total', { route: '/r/7' })).toBe(8);
    expect(sampleValue(body, 'hits_total', { route: '/r/185' })).toBe(185 + 186);
    expect((JSON.parse(processes.sent[1] as string) as WireFamily[])[0]).toMatchObject({ b: 200, m: [0], l: ['route="/new",le_x=""'] });
    expect((JSON.parse(processes.sent[0] as string) as WireFamily[])[0]).toMatchObject({ b: 0, r: 1 });
  });

  it("prom-http's request families are read from their store: the same sum, and a reset store starts its tables again", async () => {
    const stores = [0, 1].map(() => {
      const registry = new Registry();
      // Labels sorting before and after `le`, a custom route label, dynamic labels: keys differ from the display.
      const families = registerTestFamilies(registry, '', 'endpoint', [['app', 'x"y']], ['zone'], [0.5, 1], true, 100, Summary);
      return { registry, ...families };
    });
    const processes = new Processes();
    const registries = stores.map((s) => s.registry);
    for (const [p, { store }] of stores.entries()) {
      for (let i = 0; i < 5; i++) store.observe('GET', `/e/${i}`, 200 + p, 0.25 * (i + p), i === 3, [`z${i % 2}`]);
    }
    let body = render(await processes.sum(registries));
    expect(body).toBe(await aggregatorRegistry(registries));
    const first = (JSON.parse(processes.sent[0] as string) as WireFamily[]).find((f) => f.n === 'http_request_duration_seconds');
    expect(first).toMatchObject({
      r: 1,
      b: 0,
      mn: ['http_request_duration_seconds_bucket', 'http_request_duration_seconds_sum', 'http_request_duration_seconds_count'],
    });
    expect(first?.l?.[0]).toBe('le="0.5",method="GET",endpoint="/e/0",status="200",app="x\\"y",zone="z0"');
    expect(first?.s?.[0]).toBe('app="x\\"y",endpoint="/e/0",le="0.5",method="GET",status="200",zone="z0"');
    // Only series with exceptions have the sample: /e/3 is the fourth series.
    expect((JSON.parse(processes.sent[0] as string) as WireFamily[]).find((f) => f.n === 'http_request_exceptions_total')).toMatchObject({
      v: [1],
      i: [3],
    });

    (stores[0] as { store: SeriesStore }).store.observe('GET', '/e/new', 200, 2, false, ['z0']);
    body = render(await processes.sum(registries));
    expect(body).toBe(await aggregatorRegistry(registries));
    const second = (JSON.parse(processes.sent[0] as string) as WireFamily[]).find((f) => f.n === 'http_request_duration_seconds');
    expect(second).toMatchObject({ b: 25, m: [1, 1, 1, 2, 3] });
    expect(second?.v).toHaveLength(30);
    expect(sampleValue(body, 'http_request_duration_seconds_count', { endpoint: '/e/new' })).toBe(1);

    (stores[1] as { store: SeriesStore }).store.reset();
    (stores[1] as { store: SeriesStore }).store.observe('GET', '/e/4', 201, 0.25, false, ['z0']);
    body = render(await processes.sum(registries));
    expect(body).toBe(await aggregatorRegistry(registries));
    expect((JSON.parse(processes.sent[1] as string) as WireFamily[]).find((f) => f.n === 'http_request_total')).toMatchObject({
      r: 1,
      b: 0,
      v: [1],
    });
  });

  it('label values that come and go are forgotten once no table refers to them', async () => {
    const processes = new Processes();
    const churning = new Registry();
    const counter = new Counter({ name: 'churn_total', help: 'Churn', labelNames: ['id'], registers: [churning] });
    for (let id = 0; id < 3000; id++) counter.inc({ id: `gone-${id}` });
    counter.inc({ id: 'kept' }, 5);
    const exited = new Registry();
    new Counter({ name: 'churn_total', help: 'Churn', labelNames: ['id'], registers: [exited] }).inc({ id: 'retired' }, 7);
    const retired = processes.tables.aggregate([{ families: await processes.report(1, exited), monotonic: true }], true).map(asReported);
    await processes.report(0, churning);
    counter.reset();
    counter.inc({ id: 'kept' }, 6);
    const sum = async () => {
      const families = processes.tables.aggregate([
        { families: await processes.report(0, churning), monotonic: false },
        { families: retired, monotonic: false },
      ]);
      return { families, body: render(families) };
    };
    let { families, body } = await sum();
    expect(families[0]?.cluster.size).toBe(3002);
    expect(processes.tables.sparse()).toEqual(['churn_total']);

    const holders = [...processes.copies.map((copy) => copy.get('churn_total') as SourceTable), ...retired.map((f) => f.table)];
    processes.tables.compact('churn_total', holders);
    expect(processes.tables.sparse()).toEqual([]);
    counter.inc({ id: 'new' }, 2);
    ({ families, body } = await sum());
    // Left: `kept` (the churning process), `retired` (the exited one's table and the retired total), then `new`.
    expect(families[0]?.cluster.size).toBe(3);
    expect(body).toBe(
      '# HELP churn_total Churn\n# TYPE churn_total counter\nchurn_total{id="kept"} 6\nchurn_total{id="new"} 2\nchurn_total{id="retired"} 7\n',
    );
  });

  it('a report made for tables the primary does not have is refused, not misread', async () => {
    const registry = workerRegistry(1);
    const encoder = new FamilyEncoder();
    const tables = new ClusterTables();
    const first = await encoder.collect([registry], null);
    const second = await encoder.collect([registry], null);
    // The primary lost the first report (a new primary, say): the second one refers to tables it never got.
    const copy = new Map<string, SourceTable>();
    expect(second.map((wire) => tables.apply(copy, wire))).toContain(null);
    encoder.reset();
    const whole = await encoder.collect([registry], null);
    expect(whole.every((wire) => wire.r === 1)).toBe(true);
    const body = render(tables.aggregate([{ families: whole.map((wire) => tables.apply(copy, wire) as Reported), monotonic: false }]));
    expect(body).toBe(await aggregatorRegistry([registry]));
    expect(first.length).toBe(whole.length);
  });

  it('sums exactly: the total does not depend on order, nor on which workers are retired', async () => {
    const processes = new Processes();
    const worker = async (p: number, value: number): Promise<Reported[]> => {
      const registry = new Registry();
      new Counter({ name: 'work_seconds_total', help: 'Work', registers: [registry] }).inc(value);
      return processes.report(p, registry);
    };
    const [a, b, c] = [await worker(0, 0.1), await worker(1, 0.2), await worker(2, 0.3)];
    const sum = (...contributions: Reported[][]) =>
      processes.tables.aggregate(contributions.map((families) => ({ families, monotonic: false })))[0]?.values[0];
    const retire = (...contributions: Reported[][]) =>
      processes.tables
        .aggregate(
          contributions.map((families, i) => ({ families, monotonic: i > 0 })),
          true,
        )
        .map(asReported);
    // Left to right, (0.1 + 0.2) + 0.3 is 0.6000000000000001 but (0.1 + 0.3) + 0.2 is 0.6: a total that
    // went from the first to the second when worker b exits would look like a counter reset.
    expect(0.1 + 0.2 + 0.3).toBe(0.6000000000000001);
    expect(sum(a, b, c)).toBe(0.6);
    const retired = retire([], b);
    expect(sum(a, c, retired)).toBe(0.6);
    expect(sum(retired, c, a)).toBe(0.6);
    const retiredTwo = retire(retired, a);
    expect(sum(c, retiredTwo)).toBe(0.6);
    expect(sum(retiredTwo, c)).toBe(0.6);
  });

  it('sums of many inexact values are the correctly rounded exact sum, in any order', async () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const values = Array.from({ length: 6 }, () => Array.from({ length: 20 }, () => (random() - 0.3) * 10 ** Math.floor(random() * 8)));
    const registries = values.map((row) => {
      const registry = new Registry();
      const gauge = new Gauge({ name: 'level', help: 'Level', labelNames: ['i'], registers: [registry] });
      for (const [i, v] of row.entries()) gauge.set({ i: String(i) }, v);
      return registry;
    });
    const body = render(await new Processes().sum(registries));
    const reversed = render(await new Processes().sum([...registries].reverse()));
    for (let i = 0; i < 20; i++) {
      const column = values.map((row) => row[i] as number);
      expect(sampleValue(body, 'level', { i: String(i) })).toBe(exactSumOf(column).value);
      expect(sampleValue(reversed, 'level', { i: String(i) })).toBe(exactSumOf(column).value);
    }
  });

  it('OpenMetrics: renders as a prom-client OpenMetrics registry does', async () => {
    // Not compared with AggregatorRegistry here: in OpenMetrics it writes counters as `jobs_total_total`.
    const registry = workerRegistry(2, Registry.OPENMETRICS_CONTENT_TYPE);
    const families = await new Processes().sum([registry]);
    registry.removeSingleMetric('g_omit');
    const body = render(families, true);
    expect(body).toBe(await registry.metrics());
    expect(body).toContain('# TYPE jobs counter\njobs_total{kind="k0"} 3\n');
  });

  it('summaries: _sum and _count are summed, each quantile is the largest of the workers (an upper bound)', async () => {
    const registries = [1, 100].map((scale) => {
      const registry = new Registry();
      const summary = new Summary({ name: 'task_seconds', help: 'Task', percentiles: [0.5, 0.9], registers: [registry] });
      for (let i = 1; i <= 10; i++) summary.observe(i * scale);
      return registry;
    });
    const perWorker = await Promise.all(registries.map((r) => r.metrics()));
    const body = render(await new Processes().sum(registries));
    for (const q of ['0.5', '0.9']) {
      const values = perWorker.map((b) => sampleValue(b, 'task_seconds', { quantile: q }) as number);
      expect(values[0]).toBeLessThan(values[1] as number);
      expect(sampleValue(body, 'task_seconds', { quantile: q })).toBe(values[1]);
    }
    expect(sampleValue(body, 'task_seconds_sum')).toBe(55 + 5500);
    expect(sampleValue(body, 'task_seconds_count')).toBe(20);
  });

  it("honours a summary's explicit aggregator other than the default", async () => {
    const registries = [2, 4].map((value) => {
      const registry = new Registry();
      new Summary({ name: 'avg_seconds', help: 'Avg', percentiles: [0.5], aggregator: 'average', registers: [registry] }).observe(value);
      return registry;
    });
    const body = render(await new Processes().sum(registries));
    expect(sampleValue(body, 'avg_seconds', { quantile: '0.5' })).toBe(3);
    expect(sampleValue(body, 'avg_seconds_count')).toBe(1);
  });

  it('leaves out a family whose type differs from the first one seen under its name', async () => {
    const registries = ['counter', 'gauge', 'counter'].map((type) => {
      const registry = new Registry();
      if (type === 'counter') new Counter({ name: 'x', help: 'x', registers: [registry] }).inc(2);
      else new Gauge({ name: 'x', help: 'x', registers: [registry] }).set(40);
      return registry;
    });
    expect(render(await new Processes().sum(registries))).toBe('# HELP x x\n# TYPE x counter\nx 4\n');
  });

  it('carries NaN and infinities across the IPC channel (JSON)', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'g', help: 'g', labelNames: ['a'], registers: [registry] });
    for (const [i, v] of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5].entries())
      gauge.set({ a: String(i + 1) }, v);
    const families = await new Processes().sum([registry]);
    expect(families[0]?.values).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5]);
    expect(render(families)).toBe(await registry.metrics());
  });

  it('outside a cluster worker, cluster: true renders the process registry as it is', async () => {
    const registry = workerRegistry(1);
    const rendered = await clusterRenderer(registry)({});
    expect(rendered.body.toString()).toBe(await registry.metrics());
  });
});

describe('setupClusterPrimary', () => {
  it('with no worker yet: the primary registry and cluster gauges at 0; also on its own port', async () => {
    const registry = new Registry();
    new Counter({ name: 'primary_events_total', help: 'Events', registers: [registry] }).inc(7);
    const primary = await setupClusterPrimary({ registry, port: 0, host: '127.0.0.1', endpoint: '/cluster-metrics' });
    try {
      const { body } = await primary.generateMetrics();
      expect(sampleValue(body, 'primary_events_total')).toBe(7);
      expect(sampleValue(body, 'cluster_workers')).toBe(0);
      expect(sampleValue(body, 'cluster_workers_responding')).toBe(0);
      const address = primary.server?.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const response = await fetch(`http://127.0.0.1:${port}/cluster-metrics?name[]=primary_events_total`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(
        '# HELP primary_events_total Events\n# TYPE primary_events_total counter\nprimary_events_total 7\n',
      );
      await expect(setupClusterPrimary()).rejects.toThrow(/already running/);
    } finally {
      await primary.close();
    }
  });

  it('rejects bad options naming them, and a taken port', async () => {
    await expect(setupClusterPrimary({ timout: 5 } as never)).rejects.toThrow(
      new TypeError('prom-http: setupClusterPrimary has no option "timout"'),
    );
    await expect(setupClusterPrimary({ timeout: 0 })).rejects.toThrow(/option "timeout" must be a positive number/);
    await expect(setupClusterPrimary({ registry: {} as never })).rejects.toThrow(/option "registry"/);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      await expect(setupClusterPrimary({ port, host: '127.0.0.1' })).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
      // The failed setup left nothing running: a new one starts.
      const primary = await setupClusterPrimary({ registry: new Registry() });
      await primary.close();
    } finally {
      taken.close();
    }
  });
});

// ─── real node:cluster processes ──────────────────────────────────────────────────────────────────

const ROOT = new URL('../../../../', import.meta.url);
const FIXTURE = fileURLToPath(new URL('../fixtures/cluster-app.mjs', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('examples/cluster/server.mjs', ROOT));

/** The cluster runs in child processes, which load the built packages: fail clearly when they are not built. */
function assertBuilt(): void {
  const missing = ['core', 'express', 'fastify'].filter((p) => !existsSync(new URL(`packages/${p}/dist/index.js`, ROOT)));
  if (missing.length > 0) {
    throw new Error(
      `the cluster tests run the built packages in child processes, and packages/{${missing.join(',')}}/dist is missing: run \`pnpm -r --filter './packages/*' run build\` first`,
    );
  }
  if (!readFileSync(new URL('packages/core/dist/index.js', ROOT), 'utf8').includes('setupClusterPrimary')) {
    throw new Error("packages/core/dist predates the cluster support: run `pnpm -r --filter './packages/*' run build` first");
  }
}

interface ClusterEvent {
  event: string;
  id?: number;
  pid?: number;
  port?: number | null;
  slot?: number;
  restarted?: boolean;
}

/** A process group started by a test: events read from its stdout, killed as a whole. */
class Spawned {
  readonly child: ChildProcess;
  readonly events: ClusterEvent[] = [];
  output = '';
  private readonly waiters = new Set<() => void>();

  constructor(script: string, env: Record<string, string>) {
    // detached: its own process group, so that the workers die with it even when a test fails.
    this.child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.output += `${line}\n`;
      try {
        this.events.push(JSON.parse(line) as ClusterEvent);
      } catch {
        return;
      }
      for (const wake of this.waiters) wake();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
  }

  /** The first event (past or future) that passes `test`. */
  waitFor(test: (e: ClusterEvent) => boolean, what: string, ms = 10_000): Promise<ClusterEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(test);
        if (found === undefined) return false;
        this.waiters.delete(wake);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const wake = (): void => {
        check();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`timed out waiting for ${what}; output so far:\n${this.output}`));
      }, ms);
      if (!check()) this.waiters.add(wake);
    });
  }

  kill(): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

interface Running {
  app: Spawned;
  primaryPort: number;
  appPort: number;
  workers: ClusterEvent[];
}

async function startCluster(env: Record<string, string>, count = 3): Promise<Running> {
  const appPort = await freePort();
  const app = new Spawned(FIXTURE, { APP_PORT: String(appPort), ...env });
  try {
    const primary = await app.waitFor((e) => e.event === 'primary', 'the primary');
    const workers: ClusterEvent[] = [];
    for (let id = 1; id <= count; id++) workers.push(await app.waitFor((e) => e.event === 'worker' && e.id === id, `worker ${id}`));
    return { app, primaryPort: primary.port as number, appPort, workers };
  } catch (error) {
    app.kill();
    throw error;
  }
}

async function scrape(port: number, path = '/metrics', headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers, signal: AbortSignal.timeout(5000) });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

/** Sends `n` GET requests, `concurrency` at a time; counts those answered 200 and those that failed. */
async function load(port: number, n: number, concurrency: number, path = (i: number) => `/items/${i % 7}`) {
  let next = 0;
  let ok = 0;
  let failed = 0;
  async function lane(): Promise<void> {
    while (next < n) {
      const i = next++;
      try {
        // A connection handed to a worker as it is killed can stay open unanswered: do not wait for it forever.
        const response = await fetch(`http://127.0.0.1:${port}${path(i)}`, { signal: AbortSignal.timeout(3000) });
        await response.arrayBuffer();
        if (response.status === 200) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { ok, failed };
}

/** Every sample of the counter and histogram families, by name and labels. */
function monotonicSamples(body: string): Map<string, number> {
  const families = new Set<string>();
  for (const m of body.matchAll(/^# TYPE (\S+) (counter|histogram)$/gm)) families.add(m[1] as string);
  const out = new Map<string, number>();
  for (const s of parseExposition(body)) {
    const family = families.has(s.name) ? s.name : s.name.replace(/_(bucket|sum|count)$/, '');
    if (families.has(family)) out.set(`${s.name}${JSON.stringify(s.labels)}`, s.value);
  }
  return out;
}

/** Fails when a counter or histogram series of `before` is missing from `after` or went down. */
function expectNoCounterWentDown(before: Map<string, number>, after: Map<string, number>): void {
  const wentDown: string[] = [];
  for (const [key, value] of before) {
    const now = after.get(key);
    if (now === undefined || now < value) wentDown.push(`${key}: ${value} → ${now}`);
  }
  expect(wentDown).toEqual([]);
}

const total = (body: string) => sumOf(body, 'http_request_total');

// The process suites run side by side: the two clusters under load one after the other, as their timing checks
// want the CPU, and beside them the two that mostly wait (for the primary's timeout, for the example to start).
describe.concurrent('node:cluster under load, one cluster at a time', () => {
  describe.sequential('3 workers (Express, Express, Fastify) with cluster: true', () => {
    let c: Running;
    beforeAll(async () => {
      assertBuilt();
      c = await startCluster({ FRAMEWORKS: 'express,express,fastify', TIMEOUT: '500', NATIVE: '1' });
    });
    afterAll(() => c?.app.kill());

    it('every scrape of any worker, of the shared port and of the primary gives the cluster-wide sum', async () => {
      const sent = [40, 25, 15];
      for (const [i, w] of c.workers.entries()) expect((await load(w.port as number, sent[i] as number, 4)).ok).toBe(sent[i]);
      expect((await load(c.appPort, 120, 12)).ok).toBe(120);
      for (const port of [...c.workers.map((w) => w.port as number), c.appPort, c.primaryPort]) {
        const { status, contentType, body } = await scrape(port);
        expect(status).toBe(200);
        expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
        expect(total(body)).toBe(200);
        expect(sumOf(body, 'http_request_duration_seconds_count')).toBe(200);
        expect(sumOf(body, 'http_request_duration_seconds_bucket', { le: '+Inf' })).toBe(200);
        expect(sampleValue(body, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
        expect(sampleValue(body, 'exporter_info', { version: '0.1.0' })).toBe(1);
        expect(sampleValue(body, 'cluster_workers')).toBe(3);
        expect(sampleValue(body, 'cluster_workers_responding')).toBe(3);
        // The primary's own registry is in the sum.
        expect(sampleValue(body, 'fixture_primary_forks_total')).toBe(3);
        // prom-client's process metrics keep their own aggregators: 'first' for the version, 'omit' for the start time.
        expect(sumOf(body, 'nodejs_version_info')).toBe(1);
        expect(sampleValue(body, 'process_start_time_seconds')).toBeUndefined();
      }
    });

    it('under load: each scrape of any worker is within what was sent, none goes back, the last equals it', async () => {
      const before = total((await scrape(c.primaryPort)).body);
      const ports = [...c.workers.map((w) => w.port as number), c.appPort];
      let running = true;
      const loading = Promise.all([load(c.appPort, 600, 16), ...c.workers.map((w) => load(w.port as number, 100, 4))]).finally(() => {
        running = false;
      });
      const seen: number[] = [];
      for (let i = 0; running; i++) {
        const { status, body } = await scrape(ports[i % ports.length] as number);
        expect(status).toBe(200);
        seen.push(total(body));
      }
      const results = await loading;
      const sent = results.reduce((n, r) => n + r.ok, 0);
      expect(sent).toBe(900);
      expect(seen.length).toBeGreaterThan(2);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] as number);
      expect(Math.max(...seen)).toBeLessThanOrEqual(before + sent);
      for (const port of ports) expect(total((await scrape(port)).body)).toBe(before + sent);
    });

    it('serves the protobuf exposition on request, with the native histogram buckets summed over the workers', async () => {
      const accept = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';
      const expected = total((await scrape(c.primaryPort)).body);
      for (const port of [c.workers[1]?.port as number, c.primaryPort]) {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept } });
        expect(response.headers.get('content-type')).toBe(PROTOBUF_CONTENT_TYPE);
        const families = decodeFamilies(new Uint8Array(await response.arrayBuffer()));
        expect(families.find((f) => f.name === 'cluster_workers')?.metric[0]?.gauge.value).toBe(3);
        const duration = families.find((f) => f.name === 'http_request_duration_seconds');
        let count = 0;
        for (const { histogram } of duration?.metric ?? []) {
          count += histogram.sampleCount;
          expect(histogram.schema).toBe(3);
          // Every observation is in one native bucket: the zero bucket's count plus the buckets' counts (running
          // sums of the deltas) is the series' count.
          let bucket = 0;
          let inBuckets = 0;
          for (const delta of histogram.positiveDelta ?? []) {
            bucket += delta;
            inBuckets += bucket;
          }
          expect(inBuckets + (histogram.zeroCount ?? 0)).toBe(histogram.sampleCount);
        }
        expect(count).toBe(expected);
      }
    });

    it('serves OpenMetrics on request, and only the families of name[]', async () => {
      const om = await scrape(c.workers[2]?.port as number, '/metrics', { accept: 'application/openmetrics-text; version=1.0.0' });
      expect(om.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      expect(om.body.endsWith('\n# EOF\n')).toBe(true);
      expect(om.body).toContain('# TYPE http_request counter\n');
      const filtered = await scrape(c.workers[0]?.port as number, '/metrics?name[]=http_request_total&name[]=cluster_workers_responding');
      const names = new Set(parseExposition(filtered.body).map((s: Sample) => s.name));
      expect([...names]).toEqual(['http_request_total', 'cluster_workers_responding']);
      expect(total(filtered.body)).toBe(total(om.body));
    });

    it("a primary set up again gets each worker's tables whole: the same sum, and it stays right", async () => {
      const before = total((await scrape(c.primaryPort)).body);
      expect((await fetch(`http://127.0.0.1:${c.workers[0]?.port}/restart-primary`)).status).toBe(200);
      const restarted = await c.app.waitFor((e) => e.event === 'primary' && e.restarted === true, 'the primary set up again');
      c.primaryPort = restarted.port as number;
      // The workers introduce themselves to the new primary in answer to its roll call.
      let workers = 0;
      for (let tries = 0; workers < 3 && tries < 40; tries++) {
        workers = sampleValue((await scrape(c.primaryPort)).body, 'cluster_workers') ?? 0;
        if (workers < 3) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(workers).toBe(3);
      for (const port of [c.primaryPort, ...c.workers.map((w) => w.port as number)]) {
        const { status, body } = await scrape(port);
        expect(status).toBe(200);
        expect(sampleValue(body, 'cluster_workers_responding')).toBe(3);
        // The request to /restart-primary counts too.
        expect(total(body)).toBe(before + 1);
      }
      expect((await load(c.appPort, 30, 3)).ok).toBe(30);
      expect(total((await scrape(c.primaryPort)).body)).toBe(before + 31);
    });

    it('a hung worker cannot fail a scrape: it is left out in time, its counters stay, the gauge shows it', async () => {
      const before = await scrape(c.primaryPort);
      expect(sampleValue(before.body, 'cluster_workers_responding')).toBe(3);
      const hung = c.workers[2] as ClusterEvent;
      const blocked = fetch(`http://127.0.0.1:${hung.port}/block?ms=2500`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const port of [c.workers[0]?.port as number, c.primaryPort]) {
        const start = performance.now();
        const during = await scrape(port);
        const elapsed = performance.now() - start;
        expect(during.status).toBe(200);
        expect(elapsed).toBeLessThan(500 + 700);
        expect(sampleValue(during.body, 'cluster_workers')).toBe(3);
        expect(sampleValue(during.body, 'cluster_workers_responding')).toBe(2);
        expect(total(during.body)).toBe(total(before.body));
        expectNoCounterWentDown(monotonicSamples(before.body), monotonicSamples(during.body));
      }
      expect((await blocked).status).toBe(200);
      const after = await scrape(c.workers[1]?.port as number);
      expect(sampleValue(after.body, 'cluster_workers_responding')).toBe(3);
      expect(sampleValue(after.body, 'http_request_total', { path: '/block' })).toBe(1);
      expect(total(after.body)).toBe(total(before.body) + 1);
    });

    it('a worker whose metrics cannot be collected is left out like a hung one (last test: it stays broken)', async () => {
      const before = await scrape(c.primaryPort);
      const faulty = c.workers[1] as ClusterEvent;
      expect((await fetch(`http://127.0.0.1:${faulty.port}/break-collect`)).status).toBe(200);
      const start = performance.now();
      const after = await scrape(faulty.port as number);
      expect(performance.now() - start).toBeLessThan(500);
      expect(after.status).toBe(200);
      expect(sampleValue(after.body, 'cluster_workers')).toBe(3);
      expect(sampleValue(after.body, 'cluster_workers_responding')).toBe(2);
      // Its counters count with their last known values, which predate /break-collect.
      expect(total(after.body)).toBe(total(before.body));
      expect(sampleValue(after.body, 'http_request_total', { path: '/break-collect' })).toBeUndefined();
      expectNoCounterWentDown(monotonicSamples(before.body), monotonicSamples(after.body));
      const warning = 'PromHttpWarning: collecting metrics for the cluster primary failed (fixture collect failure)';
      for (let tries = 0; tries < 40 && !c.app.output.includes(warning); tries++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(c.app.output).toContain(warning);
    });
  });

  describe.sequential('workers killed mid-run and restarted', () => {
    let c: Running;
    beforeAll(async () => {
      assertBuilt();
      c = await startCluster({ FRAMEWORKS: 'express,fastify,express', TIMEOUT: '500', RESTART: '1' });
    });
    afterAll(() => c?.app.kill());

    it('an exited worker keeps its counters in the sum, its gauges go, a new worker adds to it', async () => {
      const [w1, w2, w3] = c.workers as [ClusterEvent, ClusterEvent, ClusterEvent];
      await load(w1.port as number, 30, 3);
      await load(w2.port as number, 20, 3);
      await load(w3.port as number, 10, 3);
      const before = await scrape(c.primaryPort);
      expect(total(before.body)).toBe(60);

      process.kill(w2.pid as number, 'SIGKILL');
      await c.app.waitFor((e) => e.event === 'exit' && e.id === w2.id, 'the killed worker to exit');
      const fresh = await c.app.waitFor((e) => e.event === 'worker' && e.slot === 1 && (e.id as number) > 3, 'its replacement');
      const after = await scrape(c.primaryPort);
      expect(total(after.body)).toBe(60);
      expect(sampleValue(after.body, 'cluster_workers')).toBe(3);
      expect(sampleValue(after.body, 'cluster_workers_responding')).toBe(3);
      expectNoCounterWentDown(monotonicSamples(before.body), monotonicSamples(after.body));
      // A gauge is the live workers' only: three exporter_info gauges at 1 still give max 1.
      expect(sampleValue(after.body, 'exporter_info', { version: '0.1.0' })).toBe(1);

      expect((await load(fresh.port as number, 7, 2)).ok).toBe(7);
      expect(total((await scrape(fresh.port as number)).body)).toBe(67);
    });

    it('under load with a worker killed mid-run, no counter of successive scrapes ever goes down', async () => {
      const survivor = c.app.events.filter((e) => e.event === 'worker').at(-1) as ClusterEvent;
      const victim = c.workers[0] as ClusterEvent;
      let running = true;
      const loading = load(c.appPort, 1500, 16).finally(() => {
        running = false;
      });
      let previous = monotonicSamples((await scrape(c.primaryPort)).body);
      const ports = [c.primaryPort, survivor.port as number];
      let scrapes = 0;
      let killed = false;
      const killAt = performance.now() + 300;
      for (let i = 0; running; i++) {
        if (!killed && performance.now() >= killAt) {
          process.kill(victim.pid as number, 'SIGKILL');
          killed = true;
        }
        const { status, body } = await scrape(ports[i % ports.length] as number);
        expect(status).toBe(200);
        const current = monotonicSamples(body);
        expectNoCounterWentDown(previous, current);
        previous = current;
        scrapes++;
      }
      const { ok } = await loading;
      expect(killed).toBe(true);
      expect(scrapes).toBeGreaterThan(3);
      await c.app.waitFor(
        (e) => e.event === 'worker' && e.slot === 0 && (e.id as number) > (victim.id as number),
        'the replacement of the victim',
      );
      const last = await scrape(c.primaryPort);
      expectNoCounterWentDown(previous, monotonicSamples(last.body));
      expect(sampleValue(last.body, 'cluster_workers')).toBe(3);
      // Requests the victim answered after its last report are lost with it, but none is counted twice.
      expect(ok).toBeGreaterThan(0);
      expect(total(last.body)).toBeLessThanOrEqual(67 + 1500);
    });
  });
});

describe.concurrent('node:cluster without setupClusterPrimary() in the primary', () => {
  let c: Running;
  beforeAll(async () => {
    assertBuilt();
    c = await startCluster({ FRAMEWORKS: 'express', NO_SETUP: '1' }, 1);
  });
  afterAll(() => c?.app.kill());

  it('a worker scrape answers 500 saying what is missing', async () => {
    const { status, body } = await scrape(c.workers[0]?.port as number);
    expect(status).toBe(500);
    expect(body).toBe(
      'metrics could not be rendered: prom-http: no answer from the cluster primary within 2000 ms; call setupClusterPrimary() in the primary\n',
    );
  });
});

describe.concurrent('examples/cluster/server.mjs', () => {
  let app: Spawned | undefined;
  afterAll(() => app?.kill());

  it('runs a primary and its workers whose /metrics and the primary port give the sum', async () => {
    assertBuilt();
    const [port, metricsPort] = await Promise.all([freePort(), freePort()]);
    app = new Spawned(EXAMPLE, { PORT: String(port), METRICS_PORT: String(metricsPort), HOST: '127.0.0.1', WORKERS: '2' });
    let workers = 0;
    for (let tries = 0; workers < 2 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      workers = await scrape(metricsPort).then(
        ({ body }) => sampleValue(body, 'cluster_workers') ?? 0,
        () => 0,
      );
    }
    expect(workers).toBe(2);
    expect((await load(port, 20, 4, (i) => `/items/${i}`)).ok).toBe(20);
    expect(total((await scrape(port)).body)).toBe(20);
    expect(total((await scrape(metricsPort)).body)).toBe(20);
  });
});
