import { describe, expect, it } from 'vitest';
import { Registry, Summary } from '../../../../test/helpers/client.js';
import { type DecodedFamily, decodeFamilies, labelsOf } from '../../../../test/helpers/protobuf.js';
import { PromHttp, type RouteReader } from '../engine.js';
import { generateMetrics, renderExposition } from '../exposition/exposition.js';
import { encodeFamily, ProtoWriter } from '../exposition/protobuf.js';
import { DEFAULT_BUCKETS } from '../options.js';
import { SeriesExemplars } from '../request/exemplars.js';
import type { DurationHistogram } from '../request/families.js';
import { registerRequestFamilies } from '../request/families.js';
import { DEFAULT_METRICS } from '../request/series-store.js';
import type { MetricsOptions } from '../types.js';
import { DEFAULT_NATIVE_CONFIG, resolveNativeConfig } from './histogram.js';

const PROTOBUF_ACCEPT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

/** The families of a protobuf scrape of `registry`, decoded by protobufjs, by name. */
async function scrape(registry: Registry): Promise<Map<string, DecodedFamily>> {
  const { body } = await renderExposition(registry, { accept: PROTOBUF_ACCEPT });
  return new Map(decodeFamilies(body as Buffer).map((family) => [family.name, family]));
}

/** The series of family `name` in a protobuf scrape of `registry`. */
async function seriesOf(registry: unknown, name: string): Promise<Array<Record<string, any>>> {
  const family = (await scrape(registry as Registry)).get(name);
  if (family === undefined) throw new Error(`no family ${name}`);
  return family.metric ?? [];
}

interface FakeRequest {
  route?: string;
  url: string;
}
type FakeResponse = Record<string, never>;
const routes: RouteReader<FakeRequest, FakeResponse> = {
  template: (req) => req.route,
  endpoint: (req) => req.route,
  url: (req) => req.url,
};
const engine = (options: MetricsOptions<FakeRequest, FakeResponse>) =>
  new PromHttp<FakeRequest, FakeResponse>({ registry: new Registry(), collectDefaultMetrics: false, ...options }, routes);

/** The duration families fed `observations` (method, route, status, seconds), with native buckets or without. */
function durations(native: boolean, observations: Array<[string, string, number, number]>) {
  const registry = new Registry();
  const config = native ? resolveNativeConfig('nativeHistograms', { bucketFactor: 1.2 }) : null;
  const keys = Object.keys(DEFAULT_METRICS) as Array<keyof typeof DEFAULT_METRICS>;
  const { store } = registerRequestFamilies(registry, {
    names: Object.fromEntries(keys.map((k) => [k, DEFAULT_METRICS[k].name])) as Record<keyof typeof DEFAULT_METRICS, string>,
    help: Object.fromEntries(keys.map((k) => [k, DEFAULT_METRICS[k].help])) as Record<keyof typeof DEFAULT_METRICS, string>,
    labelNames: { method: 'method', route: 'path', status: 'status' },
    statusFormat: 'code',
    staticLabels: [['env', 'prod']],
    dynamicLabelNames: [],
    buckets: DEFAULT_BUCKETS,
    latencyAsHistogram: true,
    summary: {},
    seriesLimit: 10_000,
    Summary,
    native: config,
  });
  for (const [method, route, status, seconds] of observations) store.observe(method, route, status, seconds, false, null);
  return { registry, store };
}

const OBSERVATIONS: Array<[string, string, number, number]> = [
  ['GET', '/a', 200, 1],
  ['GET', '/a', 200, 1.2],
  ['GET', '/b', 200, 0.004],
  ['GET', '/a', 200, 1.4],
  ['GET', '/a', 200, 1.8],
  ['GET', '/a', 200, 2],
  ['GET', '/a', 200, 0],
];

describe('the duration histogram with nativeHistograms', () => {
  it('serves native buckets beside the classic ones in the protobuf exposition', async () => {
    const { registry } = durations(true, OBSERVATIONS);
    expect((await scrape(registry)).get('http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    const [a, b] = await seriesOf(registry, 'http_request_duration_seconds');
    expect(labelsOf(a ?? {})).toEqual({ method: 'GET', path: '/a', status: '200', env: 'prod' });
    expect(a?.histogram).toMatchObject({
      sampleCount: 6,
      sampleSum: 7.4,
      schema: 2,
      zeroThreshold: 2 ** -128,
      zeroCount: 1,
      positiveSpan: [{ offset: 0, length: 5 }],
      positiveDelta: [1, -1, 2, -2, 2],
    });
    expect(a?.histogram.bucket).toHaveLength(DEFAULT_BUCKETS.length);
    expect(a?.histogram.bucket[9]).toEqual({ cumulativeCount: 2, upperBound: 1 });
    // 0.004 = 2^-7.97: bucket ceil(4 * log2(0.004)) = -31 at schema 2.
    expect(b?.histogram).toMatchObject({
      sampleCount: 1,
      schema: 2,
      zeroCount: 0,
      positiveSpan: [{ offset: -31, length: 1 }],
      positiveDelta: [1],
    });
  });

  it('leaves both text formats byte-identical to those without native buckets', async () => {
    const on = durations(true, OBSERVATIONS).registry;
    const off = durations(false, OBSERVATIONS).registry;
    expect((await generateMetrics(on, {})).body).toBe((await generateMetrics(off, {})).body);
    const openMetrics = { accept: 'application/openmetrics-text' };
    expect((await generateMetrics(on, openMetrics)).body).toBe((await generateMetrics(off, openMetrics)).body);
  });

  it('without the option, the protobuf exposition has classic buckets only', async () => {
    const [a] = await seriesOf(durations(false, OBSERVATIONS).registry, 'http_request_duration_seconds');
    expect(a?.histogram.schema).toBeUndefined();
    expect(a?.histogram.positiveSpan).toBeUndefined();
  });

  it('empties the native buckets with the registry', async () => {
    const { registry, store } = durations(true, OBSERVATIONS);
    registry.resetMetrics();
    store.observe('GET', '/a', 200, 3, false, null);
    const [a] = await seriesOf(registry, 'http_request_duration_seconds');
    expect(a?.histogram).toMatchObject({ sampleCount: 1, positiveSpan: [{ offset: 7, length: 1 }], positiveDelta: [1] });
  });

  it('is wired from the option through the engine', async () => {
    const e = engine({ nativeHistograms: { bucketFactor: 1.5, maxBuckets: 20 } });
    const req = { route: '/x', url: '/x' };
    const record = e.track(req, {}, new (await import('node:http')).ServerResponse({} as never), 'GET', '/x');
    e.finish(record as never, req, {}, 200);
    const [series] = await seriesOf(e.registry, 'http_request_duration_seconds');
    const histogram = series?.histogram;
    expect(histogram.schema).toBe(1);
    expect(histogram.sampleCount).toBe(1);
    // One observation: in the zero bucket, or in a single positive bucket (its delta is its count).
    expect((histogram.zeroCount ?? 0) + (histogram.positiveDelta ?? [0])[0]).toBe(1);
  });
});

describe('with exemplars', () => {
  it('the protobuf exposition carries the exemplars of the request counter and of the native duration histogram', async () => {
    const e = engine({ nativeHistograms: true, exemplars: () => ({ trace_id: 'abc' }) });
    const req = { route: '/x', url: '/x' };
    const record = e.track(req, {}, new (await import('node:http')).ServerResponse({} as never), 'GET', '/x');
    e.finish(record as never, req, {}, 200);
    const [total] = await seriesOf(e.registry, 'http_request_total');
    expect(total?.counter.exemplar).toMatchObject({ label: [{ name: 'trace_id', value: 'abc' }], value: 1 });
    const [duration] = await seriesOf(e.registry, 'http_request_duration_seconds');
    expect(duration?.histogram.schema).toBe(3);
    expect(duration?.histogram.exemplars).toMatchObject([{ label: [{ name: 'trace_id', value: 'abc' }] }]);
  });
});

describe('the option nativeHistograms', () => {
  it.each([
    ['yes', /option "nativeHistograms" must be a boolean or an object/],
    [{ bucketFactor: 0.5 }, /option "nativeHistograms" \.bucketFactor must be a finite number above 1/],
    [{ buckets: 3 }, /option "nativeHistograms" has no setting "buckets"/],
  ])('%j throws a TypeError naming it', (value, message) => {
    expect(() => engine({ nativeHistograms: value as never })).toThrow(TypeError);
    expect(() => engine({ nativeHistograms: value as never })).toThrow(message);
  });

  it('a second instance on the registry must give the same', () => {
    const registry = new Registry();
    new PromHttp({ registry, collectDefaultMetrics: false, nativeHistograms: true }, routes);
    expect(() => new PromHttp({ registry, collectDefaultMetrics: false }, routes)).toThrow(/another "nativeHistograms"/);
    expect(() => new PromHttp({ registry, collectDefaultMetrics: false, nativeHistograms: true }, routes)).not.toThrow();
  });
});

describe('custom histograms with native', () => {
  it('keep native buckets per series, served in the protobuf exposition', async () => {
    const e = engine({ nativeHistograms: { bucketFactor: 1.2 } });
    const metric = e.custom('histogram', 'job_seconds', 'Jobs', { native: true, labels: { kind: (req: FakeRequest) => req.url } });
    for (const [url, seconds] of [
      ['/a', 1],
      ['/a', 1.2],
      ['/b', 0.5],
      ['/a', 2],
    ] as const) {
      const entry = metric.enter({ url }, {}, 0);
      metric.finish(entry as never, { url }, {}, seconds * 1000);
    }
    const [a, b] = await seriesOf(e.registry, 'job_seconds');
    expect(labelsOf(a ?? {})).toEqual({ kind: '/a' });
    expect(a?.histogram).toMatchObject({
      sampleCount: 3,
      schema: 2,
      positiveSpan: [{ offset: 0, length: 5 }],
      positiveDelta: [1, -1, 1, -1, 1],
    });
    expect(b?.histogram).toMatchObject({ sampleCount: 1, schema: 2, positiveSpan: [{ offset: -4, length: 1 }], positiveDelta: [1] });
    // The text format is the client's own.
    expect((await generateMetrics(e.registry, {})).body).toBe(await e.registry.metrics());
  });

  it('take the defaults without the instance option, and their own settings', async () => {
    const e = engine({});
    const own = e.custom('histogram', 'own_seconds', 'Own', { native: { bucketFactor: 4 } });
    const entry = own.enter({ url: '/' }, {}, 0);
    own.finish(entry as never, { url: '/' }, {}, 3000);
    e.custom('histogram', 'plain_seconds', 'Plain', { native: true });
    const [ownSeries] = await seriesOf(e.registry, 'own_seconds');
    expect(ownSeries?.histogram).toMatchObject({ schema: -1, positiveSpan: [{ offset: 1, length: 1 }] });
    // A histogram without labels is exported at 0 from creation: as a native histogram too.
    const [plainSeries] = await seriesOf(e.registry, 'plain_seconds');
    expect(plainSeries?.histogram).toMatchObject({ sampleCount: 0, schema: DEFAULT_NATIVE_CONFIG.schema });
  });

  it('are emptied with the registry', async () => {
    const e = engine({});
    const metric = e.custom('histogram', 'reset_seconds', 'Reset', { native: true });
    metric.finish(metric.enter({ url: '/' }, {}, 0) as never, { url: '/' }, {}, 3000);
    e.registry.resetMetrics();
    metric.finish(metric.enter({ url: '/' }, {}, 0) as never, { url: '/' }, {}, 1000);
    const [series] = await seriesOf(e.registry, 'reset_seconds');
    expect(series?.histogram).toMatchObject({ sampleCount: 1, positiveSpan: [{ offset: 0, length: 1 }], positiveDelta: [1] });
  });

  it('refuse native on other kinds and bad settings, naming the option', () => {
    const e = engine({});
    expect(() => e.custom('counter', 'c_total', 'C', { native: true } as never)).toThrow(/option "native" is not an option of a counter/);
    expect(() => e.custom('histogram', 'h_seconds', 'H', { native: { maxBuckets: -1 } })).toThrow(
      /option "native" of metric "h_seconds" \.maxBuckets must be a positive integer/,
    );
  });

  it('a wrapper sharing the metric must not ask for other native settings', () => {
    const e = engine({});
    e.custom('histogram', 'shared_seconds', 'S', { native: true });
    expect(() => e.custom('histogram', 'shared_seconds', 'S', { native: { bucketFactor: 2 } })).toThrow(/another "native"/);
    expect(() => e.custom('histogram', 'shared_seconds', 'S')).not.toThrow();
  });
});

describe('the duration histogram writes its own protobuf exposition', () => {
  it.each([false, true])('byte for byte as from its get() data (native buckets: %s)', async (native) => {
    const { registry, store } = durations(native, [
      ['GET', '/a', 200, 0.003],
      ['GET', '/a', 200, 0.2],
      ['POST', '/b', 500, 12],
      ['GET', '/a', 404, 0],
    ]);
    // Exemplars on two buckets of the first series, +Inf's included.
    const first = store.series[0] as (typeof store.series)[number];
    first.exemplars = new SeriesExemplars(DEFAULT_BUCKETS.length);
    first.exemplars.buckets[6] = { labelSet: { trace_id: 'a1', span_id: 'b2' }, value: 0.2, timestamp: 1_700_000_000.25 };
    first.exemplars.buckets[DEFAULT_BUCKETS.length] = { labelSet: { trace_id: 'c3' }, value: 12, timestamp: 1_700_000_001 };
    const family = registry.getSingleMetric('http_request_duration_seconds') as unknown as DurationHistogram;
    const direct = new ProtoWriter();
    family.encodeTo(direct);
    const generic = new ProtoWriter();
    encodeFamily(generic, await family.getForPromString(), null, native ? (family as never) : null);
    expect(direct.result().length).toBeGreaterThan(100);
    expect(direct.result().equals(generic.result())).toBe(true);
  });
});
