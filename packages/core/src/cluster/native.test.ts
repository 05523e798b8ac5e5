import { describe, expect, it } from 'vitest';
import { Registry, Summary } from '../../../../test/helpers/client.js';
import { decodeFamilies, labelsOf } from '../../../../test/helpers/protobuf.js';
import { ProtoWriter } from '../exposition/protobuf.js';
import { encodeBuckets, type NativeConfig, NativeHistogram, resolveNativeConfig } from '../native/histogram.js';
import { DEFAULT_BUCKETS } from '../options.js';
import { registerRequestFamilies } from '../request/families.js';
import { DEFAULT_METRICS, type SeriesStore } from '../request/series-store.js';
import { type AggregatedFamily, asReported, ClusterTables, type Contribution, type Reported, type SourceTable } from './aggregate.js';
import { FamilyEncoder } from './family-encoding.js';
import { parseLabelText, renderAggregatedProtobuf } from './native-sum.js';
import type { WireFamily } from './wire.js';

/** A process's duration families with native buckets of `settings`. */
function processWith(settings: object | boolean): { registry: Registry; store: SeriesStore } {
  const registry = new Registry();
  const keys = Object.keys(DEFAULT_METRICS) as Array<keyof typeof DEFAULT_METRICS>;
  const { store } = registerRequestFamilies(registry, {
    names: Object.fromEntries(keys.map((k) => [k, DEFAULT_METRICS[k].name])) as Record<keyof typeof DEFAULT_METRICS, string>,
    help: Object.fromEntries(keys.map((k) => [k, DEFAULT_METRICS[k].help])) as Record<keyof typeof DEFAULT_METRICS, string>,
    labelNames: { method: 'method', route: 'path', status: 'status' },
    statusFormat: 'code',
    staticLabels: [],
    dynamicLabelNames: [],
    buckets: DEFAULT_BUCKETS,
    latencyAsHistogram: true,
    summary: {},
    seriesLimit: 100,
    Summary,
    native: resolveNativeConfig('nativeHistograms', settings),
  });
  return { registry, store };
}

/** Processes as the primary sees them: reports through JSON (the IPC channel) into the primary's tables. */
class Processes {
  readonly tables = new ClusterTables();
  private readonly encoders: FamilyEncoder[] = [];
  private readonly copies: Array<Map<string, SourceTable>> = [];

  async report(p: number, registry: Registry): Promise<Reported[]> {
    this.encoders[p] ??= new FamilyEncoder();
    this.copies[p] ??= new Map();
    const wires = JSON.parse(JSON.stringify(await (this.encoders[p] as FamilyEncoder).collect([registry], null))) as WireFamily[];
    return wires.map((wire) => this.tables.apply(this.copies[p] as Map<string, SourceTable>, wire) as Reported);
  }
}

/** The summed duration histogram, decoded from the sum's protobuf exposition: series by path. */
function durationSeries(families: readonly AggregatedFamily[]): Map<string, Record<string, any>> {
  const w = new ProtoWriter();
  renderAggregatedProtobuf(w, families, [{ name: 'cluster_workers', help: 'Workers', value: 2 }]);
  const decoded = decodeFamilies(w.result());
  expect(decoded.at(-1)).toEqual({ name: 'cluster_workers', help: 'Workers', type: 'GAUGE', metric: [{ gauge: { value: 2 } }] });
  const duration = decoded.find((f) => f.name === 'http_request_duration_seconds');
  return new Map((duration?.metric ?? []).map((m) => [labelsOf(m).path as string, m.histogram]));
}

/** The native buckets of one histogram that observed `values`, at `config`, brought to `schema`. */
function reference(config: NativeConfig, values: number[], schema: number) {
  const h = new NativeHistogram(config);
  for (const v of values) h.observe(v);
  h.reduceTo(schema);
  const { spans, deltas } = encodeBuckets(h.positive);
  return {
    schema: h.schema,
    zeroCount: h.zeroCount,
    positiveSpan: spans.map(([offset, length]) => ({ offset, length })),
    positiveDelta: deltas,
  };
}

describe('native histograms over a cluster', () => {
  it('sums each series at the coarsest schema of the processes', async () => {
    const fine = processWith({ bucketFactor: 1.2 });
    const coarse = processWith({ bucketFactor: 1.5 });
    for (const v of [0, 1, 1.2, 0.004]) fine.store.observe('GET', '/a', 200, v, false, null);
    fine.store.observe('GET', '/b', 200, 0.3, false, null);
    for (const v of [2, 3, 0.004]) coarse.store.observe('GET', '/a', 200, v, false, null);
    const processes = new Processes();
    const contributions: Contribution[] = [
      { families: await processes.report(0, fine.registry), monotonic: false },
      { families: await processes.report(1, coarse.registry), monotonic: false },
    ];
    const series = durationSeries(processes.tables.aggregate(contributions));
    const a = series.get('/a');
    expect(a).toMatchObject({ sampleCount: 7, sampleSum: 0 + 1 + 1.2 + 0.004 + 2 + 3 + 0.004 });
    expect(a).toMatchObject(reference(resolveNativeConfig('x', { bucketFactor: 1.5 }) as NativeConfig, [0, 1, 1.2, 0.004, 2, 3, 0.004], 1));
    expect(a?.bucket).toHaveLength(DEFAULT_BUCKETS.length);
    expect(series.get('/b')).toMatchObject({
      sampleCount: 1,
      ...reference(resolveNativeConfig('x', { bucketFactor: 1.2 }) as NativeConfig, [0.3], 2),
    });
  });

  it("keeps an exited process's native buckets in the total", async () => {
    const gone = processWith(true);
    const live = processWith(true);
    gone.store.observe('GET', '/a', 200, 0.1, false, null);
    live.store.observe('GET', '/a', 200, 0.2, false, null);
    const processes = new Processes();
    const last = await processes.report(0, gone.registry);
    const retired = processes.tables.aggregate([{ families: last, monotonic: true }], true).map(asReported);
    const sum = processes.tables.aggregate([
      { families: await processes.report(1, live.registry), monotonic: false },
      { families: retired, monotonic: false },
    ]);
    const config = resolveNativeConfig('x', true) as NativeConfig;
    expect(durationSeries(sum).get('/a')).toMatchObject({ sampleCount: 2, ...reference(config, [0.1, 0.2], config.schema) });
  });

  it('reads label text back as the labels it was written from', () => {
    expect(parseLabelText('a="1",b="x\\"y\\\\z\\nw",c=""')).toEqual({ a: '1', b: 'x"y\\z\nw', c: '' });
  });
});
