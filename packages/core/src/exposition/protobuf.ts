/**
 * The Prometheus protobuf exposition: length-delimited `io.prometheus.client.MetricFamily` messages
 * (prometheus/client_model `metrics.proto`). It is the only format that carries native histogram buckets.
 *
 * Hand-written: the schema is small and stable, the encoder needs only varints, doubles and nested lengths, and
 * a generated library would add a runtime dependency and a copy through its own message objects.
 */

import { encodeBuckets, type NativeHistogram } from '../native/histogram.js';
import { type NativeSeriesSource, nativeSeriesOf, seriesKey } from '../native/series.js';
import type { FamilyData } from './text-format.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;

/** A growable protobuf writer; nested messages get their length written in front once they are done. */
export class ProtoWriter {
  buf = Buffer.allocUnsafe(64 * 1024);
  pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A non-negative integer up to 2^53 (numbers, not bigints: counts never go past that). */
  varint(n: number): void {
    this.reserve(10);
    this.put(n);
  }

  /** The varint bytes of `n` at `pos`, which has room for them. */
  private put(n: number): void {
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint(field: number, n: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(n);
  }

  /** sint32/sint64: zigzag, so that small negative numbers stay short. */
  sint(field: number, n: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  double(field: number, value: number): void {
    this.tag(field, WIRE_FIXED64);
    this.reserve(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  string(field: number, value: string): void {
    this.tag(field, WIRE_LENGTH);
    const max = value.length * 3;
    if (max < 0x80) {
      this.reserve(1 + max);
      const n = this.buf.write(value, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const bytes = Buffer.from(value, 'utf8');
    this.varint(bytes.length);
    this.reserve(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Starts a nested message (`field` > 0) or a delimited top-level one (`field` 0); returns what `end` takes.
   * One byte is kept for the length, which fits most messages; `end` moves the body when it does not.
   */
  begin(field: number): number {
    if (field > 0) this.tag(field, WIRE_LENGTH);
    this.reserve(1);
    this.pos++;
    return this.pos;
  }

  end(start: number): void {
    const length = this.pos - start;
    if (length < 0x80) {
      this.buf[start - 1] = length;
      return;
    }
    let size = 1;
    for (let n = length; n >= 0x80; n = Math.floor(n / 0x80)) size++;
    this.reserve(size - 1);
    this.buf.copy(this.buf, start + size - 1, start, this.pos);
    this.pos = start - 1;
    this.put(length);
    this.pos += length;
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** `MetricType` of metrics.proto by prom-client type name; anything else is UNTYPED. */
const METRIC_TYPE: Record<string, number> = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 };

// Field numbers of metrics.proto.
const FAMILY = { name: 1, help: 2, type: 3, metric: 4 } as const;
const METRIC = { label: 1, gauge: 2, counter: 3, summary: 4, untyped: 5, histogram: 7 } as const;
const LABEL = { name: 1, value: 2 } as const;
const SUMMARY = { count: 1, sum: 2, quantile: 3 } as const;
const QUANTILE = { quantile: 1, value: 2 } as const;
const HISTOGRAM = {
  count: 1,
  sum: 2,
  bucket: 3,
  countFloat: 4,
  schema: 5,
  zeroThreshold: 6,
  zeroCount: 7,
  zeroCountFloat: 8,
  negativeSpan: 9,
  negativeDelta: 10,
  positiveSpan: 12,
  positiveDelta: 13,
} as const;
const BUCKET = { count: 1, upperBound: 2, exemplar: 3, countFloat: 4 } as const;
const COUNTER = { value: 1, exemplar: 2 } as const;
const NATIVE_EXEMPLARS = 16;
const EXEMPLAR = { label: 1, value: 2, timestamp: 3 } as const;
const TIMESTAMP = { seconds: 1, nanos: 2 } as const;
const SPAN = { offset: 1, length: 2 } as const;

type Labels = Record<string, string | number>;
type Exemplar = NonNullable<NonNullable<FamilyData['values']>[number]['exemplar']>;

/** A count: the integer field when it is a non-negative integer, else the `_float` one. */
function count(w: ProtoWriter, intField: number, floatField: number, value: number): void {
  if (Number.isSafeInteger(value) && value >= 0) w.uint(intField, value);
  else w.double(floatField, value);
}

/** Label pairs (field 1 of a Metric and of an Exemplar). */
function labelPairs(w: ProtoWriter, labels: Labels): void {
  for (const name in labels) {
    const pair = w.begin(METRIC.label);
    w.string(LABEL.name, name);
    w.string(LABEL.value, String(labels[name]));
    w.end(pair);
  }
}

/** An exemplar (its timestamp is in seconds, as the clients keep it). */
function exemplar(w: ProtoWriter, field: number, e: Exemplar): void {
  const message = w.begin(field);
  labelPairs(w, e.labelSet);
  w.double(EXEMPLAR.value, e.value);
  if (typeof e.timestamp === 'number' && Number.isFinite(e.timestamp) && e.timestamp >= 0) {
    const timestamp = w.begin(EXEMPLAR.timestamp);
    const seconds = Math.floor(e.timestamp);
    w.uint(TIMESTAMP.seconds, seconds);
    w.uint(TIMESTAMP.nanos, Math.min(999_999_999, Math.round((e.timestamp - seconds) * 1e9)));
    w.end(timestamp);
  }
  w.end(message);
}

/** The labels of a sample as exported: its own, its shared ones, then the registry's defaults it lacks. */
function sampleLabels(value: NonNullable<FamilyData['values']>[number], defaults: Labels | null, without: string | null): Labels {
  const labels: Labels = { ...value.labels, ...value.sharedLabels };
  if (without !== null) delete labels[without];
  if (defaults !== null) for (const name in defaults) if (!Object.hasOwn(labels, name)) labels[name] = defaults[name] as string | number;
  return labels;
}

/** One histogram or summary series gathered from prom-client's flat samples. */
interface Series {
  labels: Labels;
  /** Key of the labels before the registry's defaults, to find the series' native buckets. */
  key: string;
  /** `[upper bound, cumulative count]` (histogram) or `[quantile, value]` (summary), with the bucket's exemplar. */
  points: Array<[number, number, Exemplar | null]>;
  /** The exemplars of the buckets, the +Inf one included (native histograms list them apart). */
  exemplars: Exemplar[];
  sum: number;
  count: number;
}

/** Groups the `_bucket`/quantile, `_sum` and `_count` samples of a histogram or summary by series. */
function gather(data: FamilyData, defaults: Labels | null, pointLabel: 'le' | 'quantile'): Series[] {
  const byKey = new Map<string, Series>();
  // Samples that share one `sharedLabels` object (our own families' `getForPromString`) are one series: its key
  // is made once rather than per bucket.
  let shared: object | undefined;
  let series: Series | undefined;
  for (const value of data.values ?? []) {
    if (value.sharedLabels === undefined || value.sharedLabels !== shared || series === undefined) {
      const key = seriesKey(sampleLabels(value, null, pointLabel));
      series = byKey.get(key);
      if (series === undefined) {
        series = { labels: sampleLabels(value, defaults, pointLabel), key, points: [], exemplars: [], sum: 0, count: 0 };
        byKey.set(key, series);
      }
      shared = value.sharedLabels;
    }
    const name = value.metricName ?? data.name;
    if (name.endsWith('_sum')) series.sum = value.value;
    else if (name.endsWith('_count')) series.count = value.value;
    else {
      const point = value.labels?.[pointLabel] ?? value.sharedLabels?.[pointLabel];
      const at = point === '+Inf' ? Number.POSITIVE_INFINITY : Number(point);
      const e = value.exemplar ?? null;
      if (e !== null) series.exemplars.push(e);
      // The +Inf bucket is the sample count: client_golang leaves it out too.
      if (!(pointLabel === 'le' && at === Number.POSITIVE_INFINITY)) series.points.push([at, value.value, e]);
    }
  }
  return [...byKey.values()];
}

function spans(w: ProtoWriter, spanField: number, deltaField: number, buckets: ReadonlyMap<number, number>): void {
  const encoded = encodeBuckets(buckets);
  for (const [offset, length] of encoded.spans) {
    const span = w.begin(spanField);
    w.sint(SPAN.offset, offset);
    w.uint(SPAN.length, length);
    w.end(span);
  }
  for (const delta of encoded.deltas) w.sint(deltaField, delta);
}

function nativeFields(w: ProtoWriter, native: NativeHistogram): void {
  w.sint(HISTOGRAM.schema, native.schema);
  w.double(HISTOGRAM.zeroThreshold, native.zeroThreshold);
  count(w, HISTOGRAM.zeroCount, HISTOGRAM.zeroCountFloat, native.zeroCount);
  spans(w, HISTOGRAM.negativeSpan, HISTOGRAM.negativeDelta, native.negative);
  spans(w, HISTOGRAM.positiveSpan, HISTOGRAM.positiveDelta, native.positive);
  if (native.zeroThreshold === 0 && native.zeroCount === 0 && native.positive.size === 0 && native.negative.size === 0) {
    // Without any bucket field a scraper would take the series for a classic histogram: a no-op span marks it.
    const span = w.begin(HISTOGRAM.positiveSpan);
    w.sint(SPAN.offset, 0);
    w.uint(SPAN.length, 0);
    w.end(span);
  }
}

/** A histogram series as prom-http's own families keep it: per-bound counts (not cumulative), and the buckets' exemplars. */
export interface KeptHistogramSeries {
  readonly labels: Labels;
  readonly counts: ArrayLike<number>;
  readonly count: number;
  readonly sum: number;
  /** One per bound and one for +Inf, or null. */
  readonly exemplars: { readonly buckets: ReadonlyArray<Exemplar | null | undefined> } | null;
}

/**
 * Writes a histogram family of prom-http's own straight from its series, as {@link encodeFamily} writes the same
 * family from its `get()` data (byte for byte: tested), without the objects `get()` makes per bucket.
 */
export function encodeKeptHistogram(
  w: ProtoWriter,
  name: string,
  help: string,
  bounds: readonly number[],
  series: readonly KeptHistogramSeries[],
  natives: ReadonlyMap<KeptHistogramSeries, NativeHistogram> | null,
): void {
  const family = w.begin(0);
  w.string(FAMILY.name, name);
  w.string(FAMILY.help, help);
  w.uint(FAMILY.type, METRIC_TYPE.histogram as number);
  for (const s of series) {
    const metric = w.begin(FAMILY.metric);
    labelPairs(w, s.labels);
    const histogram = w.begin(METRIC.histogram);
    count(w, HISTOGRAM.count, HISTOGRAM.countFloat, s.count);
    w.double(HISTOGRAM.sum, s.sum);
    const exemplars = s.exemplars?.buckets ?? null;
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += s.counts[i] as number;
      const bucket = w.begin(HISTOGRAM.bucket);
      count(w, BUCKET.count, BUCKET.countFloat, cumulative);
      w.double(BUCKET.upperBound, bounds[i] as number);
      const e = exemplars?.[i];
      if (e != null) exemplar(w, BUCKET.exemplar, e);
      w.end(bucket);
    }
    const native = natives?.get(s);
    if (native !== undefined) {
      nativeFields(w, native);
      if (exemplars !== null) for (const e of exemplars) if (e != null) exemplar(w, NATIVE_EXEMPLARS, e);
    }
    w.end(histogram);
    w.end(metric);
  }
  w.end(family);
}

/**
 * Writes one family as a delimited `MetricFamily`. `defaults` are the registry's default labels (added where a
 * sample lacks them, as the text format does); `native` gives the native buckets of histogram series.
 */
export function encodeFamily(w: ProtoWriter, data: FamilyData, defaults: Labels | null, native: NativeSeriesSource | null): void {
  const type = METRIC_TYPE[data.type] ?? METRIC_TYPE.untyped;
  const family = w.begin(0);
  w.string(FAMILY.name, data.name);
  w.string(FAMILY.help, data.help);
  w.uint(FAMILY.type, type as number);
  if (data.type === 'histogram') {
    const natives = native === null ? null : nativeSeriesOf(native);
    for (const series of gather(data, defaults, 'le')) {
      const metric = w.begin(FAMILY.metric);
      labelPairs(w, series.labels);
      const histogram = w.begin(METRIC.histogram);
      count(w, HISTOGRAM.count, HISTOGRAM.countFloat, series.count);
      w.double(HISTOGRAM.sum, series.sum);
      for (const [upperBound, cumulative, e] of series.points) {
        const bucket = w.begin(HISTOGRAM.bucket);
        count(w, BUCKET.count, BUCKET.countFloat, cumulative);
        w.double(BUCKET.upperBound, upperBound);
        if (e !== null) exemplar(w, BUCKET.exemplar, e);
        w.end(bucket);
      }
      const nativeSeries = natives?.get(series.key);
      if (nativeSeries !== undefined) {
        nativeFields(w, nativeSeries);
        // A native histogram has no buckets to attach exemplars to: they are listed with the series.
        for (const e of series.exemplars) exemplar(w, NATIVE_EXEMPLARS, e);
      }
      w.end(histogram);
      w.end(metric);
    }
  } else if (data.type === 'summary') {
    for (const series of gather(data, defaults, 'quantile')) {
      const metric = w.begin(FAMILY.metric);
      labelPairs(w, series.labels);
      const summary = w.begin(METRIC.summary);
      // A summary has no float count; its count is one per observation anyway.
      w.uint(SUMMARY.count, Math.max(0, Math.round(series.count)));
      w.double(SUMMARY.sum, series.sum);
      for (const [quantile, value] of series.points) {
        const q = w.begin(SUMMARY.quantile);
        w.double(QUANTILE.quantile, quantile);
        w.double(QUANTILE.value, value);
        w.end(q);
      }
      w.end(summary);
      w.end(metric);
    }
  } else {
    const field = type === METRIC_TYPE.counter ? METRIC.counter : type === METRIC_TYPE.gauge ? METRIC.gauge : METRIC.untyped;
    for (const value of data.values ?? []) {
      const metric = w.begin(FAMILY.metric);
      labelPairs(w, sampleLabels(value, defaults, null));
      const inner = w.begin(field);
      w.double(COUNTER.value, value.value);
      if (field === METRIC.counter && value.exemplar != null) exemplar(w, COUNTER.exemplar, value.exemplar);
      w.end(inner);
      w.end(metric);
    }
  }
  w.end(family);
}
