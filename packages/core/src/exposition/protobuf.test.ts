import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BOTH_CLIENTS } from '../../../../test/helpers/client.js';
import { type DecodedFamily, decodeFamilies, labelsOf } from '../../../../test/helpers/protobuf.js';
import { NativeHistogram, resolveNativeConfig } from '../native/histogram.js';
import { kNativeSeries } from '../native/series.js';
import {
  answerScrape,
  generateMetrics,
  OPENMETRICS_CONTENT_TYPE,
  renderExposition,
  wantsOpenMetrics,
  wantsProtobuf,
} from './exposition.js';
import { PROTOBUF_CONTENT_TYPE, ProtoWriter } from './protobuf.js';

const decode = decodeFamilies;
type Decoded = DecodedFamily;

describe('wantsProtobuf', () => {
  // The Accept headers of real Prometheus servers.
  const PROMETHEUS_2_NATIVE =
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
  const PROMETHEUS_2_DEFAULT =
    'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
  const PROMETHEUS_3_NATIVE =
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
  const PROMETHEUS_3_DEFAULT =
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

  it.each([
    [PROMETHEUS_2_NATIVE, true],
    [PROMETHEUS_3_NATIVE, true],
    ['application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited', true],
    ['Application/Vnd.Google.Protobuf;Proto=io.prometheus.client.MetricFamily;Encoding=DELIMITED', true],
    [PROMETHEUS_2_DEFAULT, false],
    [PROMETHEUS_3_DEFAULT, false],
    [undefined, false],
    ['*/*', false],
    ['application/*', false],
    // Not the delimited MetricFamily stream.
    ['application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text', false],
    ['application/vnd.google.protobuf', false],
    // Refused, or less wanted than a text format.
    ['application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0', false],
    ['application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,text/plain', false],
    ['application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,*/*;q=0.6', false],
  ])('%s -> %s', (accept, expected) => {
    expect(wantsProtobuf(accept)).toBe(expected);
  });

  it('Prometheus 2 and 3 without native histograms keep getting OpenMetrics', () => {
    expect(wantsOpenMetrics(PROMETHEUS_2_DEFAULT)).toBe(true);
    expect(wantsOpenMetrics(PROMETHEUS_3_DEFAULT)).toBe(true);
  });
});

describe('ProtoWriter', () => {
  it('nests messages whose length takes more than one byte', () => {
    const w = new ProtoWriter();
    const family = w.begin(0);
    w.string(1, 'x'.repeat(300));
    w.string(2, 'h\u00e9lp \u{1f600}');
    w.uint(3, 1);
    w.end(family);
    const [decoded] = decode(w.result());
    expect(decoded).toEqual({ name: 'x'.repeat(300), help: 'h\u00e9lp \u{1f600}', type: 'GAUGE', metric: [] });
  });

  it('grows its buffer', () => {
    const w = new ProtoWriter();
    const family = w.begin(0);
    w.string(1, 'n');
    for (let i = 0; i < 5000; i++) {
      const metric = w.begin(4);
      const gauge = w.begin(2);
      w.double(1, i + 0.5);
      w.end(gauge);
      w.end(metric);
    }
    w.end(family);
    const [decoded] = decode(w.result());
    expect(decoded?.metric).toHaveLength(5000);
    expect(decoded?.metric[4999]).toEqual({ gauge: { value: 4999.5 } });
  });
});

describe.each(BOTH_CLIENTS)('the protobuf exposition of a %s registry', (_name, client) => {
  const PROTOBUF_ACCEPT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

  function registry() {
    const r = new client.Registry();
    const counter = new client.Counter({ name: 'jobs_total', help: 'Jobs done', labelNames: ['queue'], registers: [r] });
    counter.inc({ queue: 'a' }, 3);
    counter.inc({ queue: 'b"\n' }, 0.5);
    const gauge = new client.Gauge({ name: 'temperature', help: 'Degrees', registers: [r] });
    gauge.set(-12.25);
    const summary = new client.Summary({ name: 'latency', help: 'Latency', percentiles: [0.5, 0.9], labelNames: ['op'], registers: [r] });
    for (const v of [1, 2, 3, 4]) summary.observe({ op: 'read' }, v);
    const histogram = new client.Histogram({ name: 'size_bytes', help: 'Sizes', buckets: [10, 100], labelNames: ['kind'], registers: [r] });
    histogram.observe({ kind: 'img' }, 5);
    histogram.observe({ kind: 'img' }, 50);
    histogram.observe({ kind: 'img' }, 500);
    histogram.observe({ kind: 'txt' }, 1);
    return { r, histogram };
  }

  it('answers with the delimited protobuf type', async () => {
    const { r } = registry();
    const { contentType } = await renderExposition(r, { accept: PROTOBUF_ACCEPT });
    expect(contentType).toBe(PROTOBUF_CONTENT_TYPE);
  });

  it('carries every family kind with its values, as a reference decoder reads them', async () => {
    const { r } = registry();
    const { body } = await renderExposition(r, { accept: PROTOBUF_ACCEPT });
    const families = decode(body as Buffer);
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ['jobs_total', 'COUNTER'],
      ['temperature', 'GAUGE'],
      ['latency', 'SUMMARY'],
      ['size_bytes', 'HISTOGRAM'],
    ]);
    const [jobs, temperature, latency, size] = families as [Decoded, Decoded, Decoded, Decoded];
    expect(jobs.help).toBe('Jobs done');
    expect(jobs.metric).toEqual([
      { label: [{ name: 'queue', value: 'a' }], counter: { value: 3 } },
      { label: [{ name: 'queue', value: 'b"\n' }], counter: { value: 0.5 } },
    ]);
    expect(temperature.metric).toEqual([{ gauge: { value: -12.25 } }]);
    expect(latency.metric).toEqual([
      {
        label: [{ name: 'op', value: 'read' }],
        summary: {
          sampleCount: 4,
          sampleSum: 10,
          quantile: [
            { quantile: 0.5, value: 2.5 },
            { quantile: 0.9, value: 4 },
          ],
        },
      },
    ]);
    expect(size.metric).toEqual([
      {
        label: [{ name: 'kind', value: 'img' }],
        histogram: {
          sampleCount: 3,
          sampleSum: 555,
          bucket: [
            { cumulativeCount: 1, upperBound: 10 },
            { cumulativeCount: 2, upperBound: 100 },
          ],
        },
      },
      {
        label: [{ name: 'kind', value: 'txt' }],
        histogram: {
          sampleCount: 1,
          sampleSum: 1,
          bucket: [
            { cumulativeCount: 1, upperBound: 10 },
            { cumulativeCount: 1, upperBound: 100 },
          ],
        },
      },
    ]);
  });

  it("adds the registry's default labels and keeps name[]", async () => {
    const { r } = registry();
    r.setDefaultLabels({ app: 'shop', queue: 'default' });
    const { body } = await renderExposition(r, { accept: PROTOBUF_ACCEPT, names: ['jobs_total', 'size_bytes'] });
    const families = decode(body as Buffer);
    expect(families.map((f) => f.name)).toEqual(['jobs_total', 'size_bytes']);
    expect(families[0]?.metric.map(labelsOf)).toEqual([
      { queue: 'a', app: 'shop' },
      { queue: 'b"\n', app: 'shop' },
    ]);
    expect(families[1]?.metric.map(labelsOf)).toEqual([
      { kind: 'img', app: 'shop', queue: 'default' },
      { kind: 'txt', app: 'shop', queue: 'default' },
    ]);
  });

  it("carries the client's process metrics", async () => {
    const r = new client.Registry();
    client.collectDefaultMetrics({ register: r });
    const text = await r.getMetricsAsJSON();
    const { body } = await renderExposition(r, { accept: PROTOBUF_ACCEPT });
    const families = decode(body as Buffer);
    expect(families.map((f) => f.name)).toEqual(text.map((f) => (f as { name: string }).name));
    const cpu = families.find((f) => f.name === 'process_cpu_seconds_total');
    expect(cpu?.type).toBe('COUNTER');
    expect(cpu?.metric[0]?.counter.value).toBeGreaterThan(0);
    const gc = families.find((f) => f.name === 'nodejs_gc_duration_seconds');
    expect(gc?.type).toBe('HISTOGRAM');
  });

  it('adds native buckets to the series that keep them, beside the classic ones', async () => {
    const { r, histogram } = registry();
    const config = resolveNativeConfig('native', { bucketFactor: 1.2 })!;
    const img = new NativeHistogram(config);
    for (const v of [0, 1, 1.2, 1.4, 1.8, 2]) img.observe(v);
    const empty = new NativeHistogram({ ...config, zeroThreshold: 0 });
    (histogram as unknown as Record<symbol, unknown>)[kNativeSeries] = () => [
      [{ kind: 'img' }, img],
      [{ kind: 'txt' }, empty],
    ];
    const { body } = await renderExposition(r, { accept: PROTOBUF_ACCEPT, names: ['size_bytes'] });
    const [size] = decode(body as Buffer);
    expect(size?.metric[0]?.histogram).toEqual({
      sampleCount: 3,
      sampleSum: 555,
      bucket: [
        { cumulativeCount: 1, upperBound: 10 },
        { cumulativeCount: 2, upperBound: 100 },
      ],
      schema: 2,
      zeroThreshold: 2 ** -128,
      zeroCount: 1,
      positiveSpan: [{ offset: 0, length: 5 }],
      positiveDelta: [1, -1, 2, -2, 2],
    });
    // A native series without any bucket and a zero threshold of 0 is marked by a no-op span.
    expect(size?.metric[1]?.histogram).toMatchObject({ schema: 2, zeroThreshold: 0, zeroCount: 0, positiveSpan: [{}] });
  });

  it('carries the exemplars of counters and histogram buckets (listed with the series too when it is native)', async () => {
    // The clients take exemplars only on a registry of the OpenMetrics content type.
    const OpenMetricsRegistry = client.Registry as unknown as new (contentType: string) => InstanceType<typeof client.Registry>;
    const r = new OpenMetricsRegistry(OPENMETRICS_CONTENT_TYPE);
    const counter = new client.Counter({ name: 'traced_total', help: 'Traced', registers: [r], enableExemplars: true });
    const histogram = new client.Histogram({ name: 'traced_seconds', help: 'Traced', buckets: [1], registers: [r], enableExemplars: true });
    const before = Date.now() / 1000;
    (counter.inc as (o: object) => void)({ labels: {}, value: 2, exemplarLabels: { trace_id: 'abc' } });
    (histogram.observe as (o: object) => void)({ labels: {}, value: 0.5, exemplarLabels: { trace_id: 'def' } });
    (histogram.observe as (o: object) => void)({ labels: {}, value: 3, exemplarLabels: { trace_id: 'ghi' } });
    const native = new NativeHistogram(resolveNativeConfig('native', true)!);
    (histogram as unknown as Record<symbol, unknown>)[kNativeSeries] = () => [[{}, native]];
    const [traced, seconds] = decode((await renderExposition(r, { accept: PROTOBUF_ACCEPT })).body as Buffer);
    const exemplarOf = (traceId: string, value: number) => ({ label: [{ name: 'trace_id', value: traceId }], value });
    expect(traced?.metric[0]?.counter).toMatchObject({ value: 2, exemplar: exemplarOf('abc', 2) });
    const timestamp = traced?.metric[0]?.counter.exemplar.timestamp;
    expect(timestamp.seconds + timestamp.nanos / 1e9).toBeGreaterThanOrEqual(Math.floor(before));
    expect(timestamp.seconds).toBeLessThanOrEqual(Date.now() / 1000);
    const h = seconds?.metric[0]?.histogram;
    expect(h.bucket).toMatchObject([{ cumulativeCount: 1, upperBound: 1, exemplar: exemplarOf('def', 0.5) }]);
    expect(h.exemplars).toMatchObject([exemplarOf('def', 0.5), exemplarOf('ghi', 3)]);
  });

  it('is what a scrape asking for it gets, gzipped when accepted', async () => {
    const { r } = registry();
    const answer = await answerScrape(
      { method: 'GET', url: '/metrics?name[]=temperature', accept: PROTOBUF_ACCEPT, acceptEncoding: 'gzip' },
      (options) => renderExposition(r, options),
    );
    expect(answer.headers['content-type']).toBe(PROTOBUF_CONTENT_TYPE);
    expect(answer.headers['content-encoding']).toBe('gzip');
    expect(decode(gunzipSync(answer.body))).toEqual([
      { name: 'temperature', help: 'Degrees', type: 'GAUGE', metric: [{ gauge: { value: -12.25 } }] },
    ]);
  });

  it('leaves the text formats as they were', async () => {
    const { r } = registry();
    expect((await generateMetrics(r, {})).body).toBe(await r.metrics());
    expect((await generateMetrics(r, { accept: '*/*' })).body).toBe(await r.metrics());
  });
});
