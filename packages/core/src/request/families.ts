import type { Registry } from 'prom-client';
import type { Client } from '../client.js';
import { encodeKeptHistogram, type ProtoWriter } from '../exposition/protobuf.js';
import {
  type ByteWriter,
  escapeLabelValue,
  type FamilyData,
  type FastFamily,
  familyHeader,
  kFastRender,
  labelText,
  valueString,
} from '../exposition/text-format.js';
import { clashError, firstDifference, setShape, shapeOf } from '../metric-clash.js';
import type { NativeConfig, NativeHistogram } from '../native/histogram.js';
import { kNativeSeries } from '../native/series.js';
import { attachBucketExemplars, writeExemplar } from './exemplars.js';
import {
  type DEFAULT_METRICS,
  NativeSeriesStore,
  type RequestLabelNames,
  requestLabelList,
  type Series,
  SeriesStore,
} from './series-store.js';

/** Base of the families registered in the user's prom-client registry. */
abstract class StoreFamily implements FastFamily {
  readonly aggregator = 'sum';
  readonly [kFastRender] = true;
  abstract readonly type: string;
  constructor(
    public name: string,
    readonly help: string,
    readonly store: SeriesStore,
  ) {}
  get labelNames(): string[] {
    return [...requestLabelList(this.store.labelNames), ...this.store.defaultLabelNames];
  }
  abstract getForPromString(): Promise<FamilyData>;
  get(): Promise<FamilyData> {
    return this.getForPromString();
  }
  abstract renderTo(writer: ByteWriter, openMetrics: boolean): void;
  reset(): void {
    this.store.reset();
  }
}

/** `http_request_duration_seconds` as a histogram. */
export class DurationHistogram extends StoreFamily {
  readonly type = 'histogram';
  private readonly bounds: string[];
  constructor(name: string, help: string, store: SeriesStore) {
    super(name, help, store);
    this.bounds = store.buckets.map((b) => `${b}`);
  }

  async getForPromString(): Promise<FamilyData> {
    const values: NonNullable<FamilyData['values']> = [];
    const { buckets } = this.store;
    for (const s of this.store.series) {
      const first = values.length;
      let acc = 0;
      for (let i = 0; i < buckets.length; i++) {
        acc += s.counts[i] as number;
        values.push({ labels: { le: buckets[i] as number }, sharedLabels: s.labels, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket` });
      if (s.exemplars !== null) attachBucketExemplars(values, first, s.exemplars);
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  override async get(): Promise<FamilyData> {
    // prom-client's get() flattens the shared labels into `labels` (cluster aggregation reads that shape).
    const data = await this.getForPromString();
    data.values = (data.values ?? []).map(({ labels, sharedLabels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return data;
  }

  /** The protobuf exposition of the family, from its series (see `encodeKeptHistogram`). */
  encodeTo(w: ProtoWriter): void {
    encodeKeptHistogram(w, this.name, this.help, this.store.buckets, this.store.series, this.natives());
  }

  /** The native buckets of each series, or null (a store without them). */
  protected natives(): ReadonlyMap<Series, NativeHistogram> | null {
    return null;
  }

  private prefixes: { bucket: Buffer[]; inf: Buffer; sum: Buffer; count: Buffer; name: string } | null = null;

  renderTo(w: ByteWriter, openMetrics: boolean): void {
    // `name` may be renamed by prom-client's OpenMetrics rendering; the line prefixes follow it.
    let p = this.prefixes;
    if (p === null || p.name !== this.name) {
      const n = this.name;
      p = {
        bucket: this.bounds.map((b) => Buffer.from(`\n${n}_bucket{le="${b}",`)),
        inf: Buffer.from(`\n${n}_bucket{le="+Inf",`),
        sum: Buffer.from(`\n${n}_sum{`),
        count: Buffer.from(`\n${n}_count{`),
        name: n,
      };
      this.prefixes = p;
    }
    w.str(familyHeader(this.name, this.help, this.type, openMetrics));
    const { bucket, inf, sum, count } = p;
    for (const s of this.store.series) {
      const text = s.textBytes;
      // The 0.0.4 text format has no exemplars.
      const exemplars = openMetrics ? s.exemplars : null;
      let acc = 0;
      for (let i = 0; i < bucket.length; i++) {
        acc += s.counts[i] as number;
        w.bytes(bucket[i] as Buffer);
        w.bytes(text);
        w.value(acc);
        if (exemplars !== null) writeExemplar(w, exemplars.buckets[i]);
      }
      w.bytes(inf);
      w.bytes(text);
      w.value(s.count);
      if (exemplars !== null) writeExemplar(w, exemplars.buckets[bucket.length]);
      w.bytes(sum);
      w.bytes(text);
      w.value(s.sum);
      w.bytes(count);
      w.bytes(text);
      w.value(s.count);
    }
  }
}

/** The duration histogram of a {@link NativeSeriesStore}: its native buckets go into the protobuf exposition. */
export class NativeDurationHistogram extends DurationHistogram {
  protected override natives(): ReadonlyMap<Series, NativeHistogram> {
    return (this.store as NativeSeriesStore).natives;
  }

  *[kNativeSeries](): Iterable<readonly [Record<string, string>, NativeHistogram]> {
    for (const [series, native] of (this.store as NativeSeriesStore).natives) yield [series.labels, native];
  }
}

/** `http_request_total` (every series) or `http_request_exceptions_total` (series with exceptions). */
export class RequestCounter extends StoreFamily {
  readonly type = 'counter';
  constructor(
    name: string,
    help: string,
    store: SeriesStore,
    private readonly exceptions: boolean,
  ) {
    super(name, help, store);
  }

  async getForPromString(): Promise<FamilyData> {
    const values: NonNullable<FamilyData['values']> = [];
    for (const s of this.store.series) {
      const value = this.exceptions ? s.exceptions : s.count;
      if (this.exceptions && value === 0) continue;
      const sample: (typeof values)[number] = { labels: { ...s.labels }, value };
      const exemplar = this.exceptions ? null : s.exemplars?.total;
      if (exemplar != null) sample.exemplar = exemplar;
      values.push(sample);
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  renderTo(w: ByteWriter, openMetrics: boolean): void {
    const sample = Buffer.from(`\n${openMetrics ? `${this.name.replace(/_total$/, '')}_total` : this.name}{`);
    w.str(familyHeader(this.name, this.help, this.type, openMetrics));
    for (const s of this.store.series) {
      const value = this.exceptions ? s.exceptions : s.count;
      if (this.exceptions && value === 0) continue;
      w.bytes(sample);
      w.bytes(s.textBytes);
      w.value(value);
      if (openMetrics && !this.exceptions) writeExemplar(w, s.exemplars?.total);
    }
  }
}

/** One `http_requests_in_progress` series. */
export class ProgressCell {
  value = 0;
  constructor(
    readonly labels: Record<string, string>,
    readonly text: string,
  ) {}
}

/** `http_requests_in_progress` by method and static default labels. */
export class InProgressGauge implements FastFamily {
  readonly type = 'gauge';
  readonly aggregator = 'sum';
  readonly [kFastRender] = true;
  private readonly cells = new Map<string, ProgressCell>();
  constructor(
    public name: string,
    readonly help: string,
    /** The method label's name; null when dropped (one cell, keyed `''`). */
    private readonly methodLabel: string | null,
    private readonly staticLabels: ReadonlyArray<readonly [string, string]>,
  ) {}

  get labelNames(): string[] {
    const names = this.staticLabels.map(([name]) => name);
    return this.methodLabel === null ? names : [this.methodLabel, ...names];
  }

  /** The cell of the last lookup: consecutive requests mostly share their method. */
  private last: ProgressCell | null = null;
  private lastMethod = '';

  /** The cell of `method`, created on first use (HTTP methods are a small fixed set). */
  cell(method: string): ProgressCell {
    if (method === this.lastMethod && this.last !== null) return this.last;
    let cell = this.cells.get(method);
    if (cell === undefined) {
      const labels: Record<string, string> = this.methodLabel === null ? {} : { [this.methodLabel]: method };
      for (const [name, value] of this.staticLabels) labels[name] = value;
      cell = new ProgressCell(labels, labelText(labels));
      this.cells.set(method, cell);
    }
    this.last = cell;
    this.lastMethod = method;
    return cell;
  }

  async get(): Promise<FamilyData> {
    const values = [...this.cells.values()].map((c) => ({ labels: { ...c.labels }, value: c.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  renderTo(w: ByteWriter, openMetrics: boolean): void {
    let out = familyHeader(this.name, this.help, this.type, openMetrics);
    for (const c of this.cells.values()) out += `\n${this.name}{${c.text}} ${valueString(c.value)}`;
    w.str(out);
  }

  /**
   * Zeroes the gauge with fresh cells. Requests in flight keep the cell they incremented and decrement that
   * one when they finish: zeroing the cells in place would take them below zero.
   */
  reset(): void {
    for (const [method, old] of this.cells) this.cells.set(method, new ProgressCell(old.labels, old.text));
    this.last = null;
    this.lastMethod = '';
  }
}

/** The families of the request metrics, registered (or found) in one registry. */
export interface RequestFamilies {
  store: SeriesStore;
  inProgress: InProgressGauge;
}

/** What shapes the default request families. */
export interface RequestFamiliesConfig {
  names: { readonly [K in keyof typeof DEFAULT_METRICS]: string };
  help: { readonly [K in keyof typeof DEFAULT_METRICS]: string };
  labelNames: RequestLabelNames;
  /** How the status label's value is made (`'code'`, `'class'` or `'function'`), for the clash check. */
  statusFormat: string;
  staticLabels: ReadonlyArray<readonly [string, string]>;
  dynamicLabelNames: readonly string[];
  buckets: readonly number[];
  latencyAsHistogram: boolean;
  /** The summary's settings (`latencyAsHistogram: false`). */
  summary: object;
  seriesLimit: number;
  /** The client's Summary, for `latencyAsHistogram: false`. */
  Summary: Client['Summary'];
  /** Native buckets of the duration histogram (`nativeHistograms`); none when null or absent. */
  native?: NativeConfig | null;
}

/**
 * Registers the default request families in `registry`, or reuses those a previous instance registered there
 * with the same options. Any other metric already holding one of the names is a clash (a TypeError naming the
 * option that differs, or saying the app registered it).
 */
export function registerRequestFamilies(registry: Registry, config: RequestFamiliesConfig): RequestFamilies {
  const { names, help, labelNames, staticLabels, dynamicLabelNames, buckets, latencyAsHistogram, seriesLimit } = config;
  const defaultLabelNames = [...staticLabels.map(([n]) => n), ...dynamicLabelNames];
  const staticText = staticLabels.map(([n, v]) => `,${n}="${escapeLabelValue(v)}"`).join('');
  const defaultLabels: Record<string, string> = Object.fromEntries(staticLabels);
  for (const name of dynamicLabelNames) defaultLabels[name] = '(req, res) => value';
  // A summary has no native buckets.
  const native = latencyAsHistogram ? (config.native ?? null) : null;
  // Keyed by the option that sets each, for the clash message.
  const shape = {
    groupBy: labelNames.route,
    labelNames: [labelNames.method, labelNames.status],
    statusFormat: config.statusFormat,
    defaultLabels,
    latencyAsHistogram,
    buckets: latencyAsHistogram ? buckets : null,
    percentiles: latencyAsHistogram ? null : config.summary,
    seriesLimit,
    nativeHistograms: native,
  };
  const instead = 'another "prefix" or "registry"';

  const existing = registry.getSingleMetric(names.requests);
  if (existing !== undefined) {
    if (!(existing instanceof RequestCounter)) throw clashError(names.requests, existing, shape, instead);
    const gauge = registry.getSingleMetric(names.inProgress);
    if (!(gauge instanceof InProgressGauge)) throw clashError(names.inProgress, gauge, shape, instead);
    if (firstDifference(shapeOf(existing) ?? {}, shape) !== null) throw clashError(names.requests, existing, shape, instead);
    return { store: existing.store, inProgress: gauge };
  }
  for (const key of ['duration', 'requests', 'exceptions', 'inProgress'] as const) {
    const taken = registry.getSingleMetric(names[key]);
    if (taken !== undefined) throw clashError(names[key], taken, shape, instead);
  }

  const summary = latencyAsHistogram
    ? null
    : setShape(
        new config.Summary({
          ...config.summary,
          name: names.duration,
          help: help.duration,
          labelNames: [...requestLabelList(labelNames), ...defaultLabelNames],
          registers: [registry],
        }),
        shape,
      );
  const storeArgs = [labelNames, defaultLabelNames, staticText, staticLabels, buckets, seriesLimit, summary] as const;
  const store = native === null ? new SeriesStore(...storeArgs) : new NativeSeriesStore(native, ...storeArgs);
  if (latencyAsHistogram) {
    const Duration = native === null ? DurationHistogram : NativeDurationHistogram;
    registry.registerMetric(setShape(new Duration(names.duration, help.duration, store), shape) as never);
  }
  registry.registerMetric(setShape(new RequestCounter(names.requests, help.requests, store, false), shape) as never);
  registry.registerMetric(setShape(new RequestCounter(names.exceptions, help.exceptions, store, true), shape) as never);
  const inProgress = setShape(new InProgressGauge(names.inProgress, help.inProgress, labelNames.method, staticLabels), shape);
  registry.registerMetric(inProgress as never);
  return { store, inProgress };
}
