import type { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import type { Client } from '../client.js';
import { labelString, splitLabels } from '../label-values.js';
import { clashError, firstDifference, type MetricShape, setShape, shapeOf } from '../metric-clash.js';
import { DEFAULT_NATIVE_CONFIG, type NativeConfig, resolveNativeConfig } from '../native/histogram.js';
import { kNativeSeries, NativeSeriesSet } from '../native/series.js';
import { assertMetricName } from '../option-checks.js';
import { type ExemplarLabels, type ExemplarReader, resolveExemplars } from '../request/exemplars.js';
import type { EnteredWrapper } from '../request/record.js';
import { OVERFLOW } from '../request/series-store.js';
import type { CustomMetricOptions, LabelFunction, MetricLike, PromClientLike, RegistryLike } from '../types.js';

export type CustomKind = 'counter' | 'gauge' | 'histogram' | 'summary';

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string> | Summary<string>;

/** The kinds whose client metric takes exemplars. */
const WITH_EXEMPLARS: ReadonlySet<CustomKind> = new Set(['counter', 'histogram']);

/** What the client's `inc` and `observe` take on a metric made with `enableExemplars`. */
interface ExemplarCall {
  labels: Record<string, string>;
  value: number;
  exemplarLabels?: ExemplarLabels;
}

/** An entered wrapper that keeps the exemplar of the span active when the request entered it. */
interface TracedEntry extends EnteredWrapper {
  readonly exemplar: ExemplarLabels | null;
}

/** prom-client settings that pass through to the metric, per type. */
const PASS_THROUGH: Record<CustomKind, readonly string[]> = {
  counter: [],
  gauge: [],
  histogram: ['buckets'],
  summary: ['percentiles', 'maxAgeSeconds', 'ageBuckets', 'compressCount', 'pruneAgedBuckets'],
};

/** Reports a label function that threw: the observation is dropped, counted, and warned about once per metric. */
export type LabelErrorSink = (metricName: string, error: unknown) => void;

/**
 * The metric behind a decorator-style wrapper: what happens when a request enters the wrapper and when its
 * response finishes. Framework-free; the adapters turn it into handlers and middleware.
 */
export class CustomMetric<Req, Res> {
  /** The client's metric (a Counter, Gauge, Histogram or Summary as `kind` says). */
  readonly metric: MetricLike;
  private readonly client: Client;
  private readonly staticLabels: Record<string, string>;
  private readonly dynamicLabels: ReadonlyArray<readonly [string, LabelFunction<Req, Res>]>;
  /** The series of the metric (shared by every wrapper of it) and its `seriesLimit`. */
  private readonly series: SeriesBound;
  /** The labels of the overflow series: static values kept, per-request ones `<overflow>`. */
  private readonly overflowLabels: Record<string, string>;
  /** How the exemplar of a request is read; null when the `exemplars` option is off. */
  private readonly exemplars: ExemplarReader<Req, Res> | null;
  /**
   * The client metric was made with `enableExemplars`: its `inc` and `observe` then take one object
   * (`{ labels, value, exemplarLabels }`) instead of `(labels, value)`.
   */
  private readonly objectCalls: boolean;
  /** Native buckets kept beside a histogram created with `native` (shared by every wrapper of it), else null. */
  private readonly native: NativeSeriesSet | null = null;
  constructor(
    readonly kind: CustomKind,
    readonly name: string,
    help: string,
    options: CustomMetricOptions<Req, Res> | undefined,
    defaults: {
      client: PromClientLike;
      registry: RegistryLike;
      staticLabels: ReadonlyArray<readonly [string, string]>;
      dynamicLabels: ReadonlyArray<readonly [string, LabelFunction<Req, Res>]>;
      seriesLimit: number;
      /** The instance's `nativeHistograms`: what `native: true` takes. */
      nativeHistograms?: NativeConfig | null;
    },
    private readonly onLabelError: LabelErrorSink,
  ) {
    assertMetricName('name', name);
    const client = defaults.client as Client;
    this.client = client;
    const registry = defaults.registry as unknown as Registry;
    if (typeof help !== 'string' || help === '') throw new TypeError(`prom-http: metric "${name}" needs a non-empty help text`);
    const opts = (options ?? {}) as Record<string, unknown>;
    const known = new Set(['labels', 'initialValueWhenOnlyStaticLabels', 'seriesLimit', ...PASS_THROUGH[kind]]);
    if (WITH_EXEMPLARS.has(kind)) known.add('exemplars');
    if (kind === 'histogram') known.add('native');
    for (const key of Object.keys(opts)) {
      if (!known.has(key)) throw new TypeError(`prom-http: option "${key}" is not an option of a ${kind} (metric "${name}")`);
    }
    const own = splitLabels<Req, Res>('labels', opts.labels);
    const ownNames = new Set([...own.staticLabels, ...own.dynamicLabels].map(([n]) => n));
    const reserved = kind === 'histogram' ? 'le' : kind === 'summary' ? 'quantile' : null;
    if (reserved && ownNames.has(reserved)) {
      throw new TypeError(`prom-http: option "labels" of metric "${name}" may not use "${reserved}", reserved by a ${kind}`);
    }
    // The metric's own labels win over default labels of the same name.
    const staticPairs = [...own.staticLabels, ...defaults.staticLabels.filter(([n]) => !ownNames.has(n))];
    this.dynamicLabels = [...own.dynamicLabels, ...defaults.dynamicLabels.filter(([n]) => !ownNames.has(n))];
    this.staticLabels = Object.fromEntries(staticPairs);
    const labelNames = [...staticPairs.map(([n]) => n), ...this.dynamicLabels.map(([n]) => n)];

    const seriesLimit = opts.seriesLimit;
    if (seriesLimit !== undefined && (typeof seriesLimit !== 'number' || !Number.isInteger(seriesLimit) || seriesLimit < 1)) {
      throw new TypeError(`prom-http: option "seriesLimit" of metric "${name}" must be a positive integer, got ${String(seriesLimit)}`);
    }
    const shape: Record<string, unknown> = { type: kind, labels: labelNames, seriesLimit };
    for (const key of PASS_THROUGH[kind]) shape[key] = opts[key];
    const nativeConfig = nativeConfigOf(kind, name, opts.native, defaults.nativeHistograms, shape);
    this.exemplars = resolveExemplars<Req, Res>(opts.exemplars, `option "exemplars" of metric "${name}"`);
    const exemplars = this.exemplars !== null;

    const metric: AnyMetric = reuseOrCreate(
      registry,
      name,
      shape,
      () => {
        // The client refuses a metric with exemplars on a registry of the 0.0.4 content type, whose own
        // `metrics()` could not show them; prom-http's endpoint picks the format per scrape, so it registers the
        // metric itself.
        const config: Record<string, unknown> = { name, help, labelNames, registers: exemplars ? [] : [registry] };
        if (exemplars) config.enableExemplars = true;
        for (const key of PASS_THROUGH[kind]) if (opts[key] !== undefined) config[key] = opts[key];
        let made: AnyMetric;
        try {
          const classes = { counter: client.Counter, gauge: client.Gauge, histogram: client.Histogram, summary: client.Summary };
          made = new classes[kind](config as never);
        } catch (error) {
          throw new TypeError(`prom-http: metric "${name}": ${(error as Error).message}`);
        }
        if (exemplars) registry.registerMetric(made);
        return made;
      },
      { seriesLimit: defaults.seriesLimit },
    );
    this.metric = metric;
    this.objectCalls = (metric as { enableExemplars?: unknown }).enableExemplars === true;
    if (exemplars && !this.objectCalls) {
      throw new TypeError(
        `prom-http: option "exemplars" of metric "${name}": the ${kind} already registered under that name was made without exemplars ` +
          '(enableExemplars); use another metric name or "registry"',
      );
    }
    this.series = boundOf(metric, (seriesLimit as number | undefined) ?? defaults.seriesLimit);
    this.native = nativeSetOf(metric, nativeConfig, labelNames.length === 0);
    this.overflowLabels = { ...this.staticLabels };
    for (const [n] of this.dynamicLabels) this.overflowLabels[n] = OVERFLOW;

    const initial = opts.initialValueWhenOnlyStaticLabels ?? true;
    if (typeof initial !== 'boolean') throw new TypeError('prom-http: option "initialValueWhenOnlyStaticLabels" must be a boolean');
    if (initial && this.dynamicLabels.length === 0 && staticPairs.length > 0) this.zero();
  }

  private zero(): void {
    const labels = this.staticLabels;
    const { metric, client } = this;
    if (metric instanceof client.Counter) {
      if (this.objectCalls) (metric.inc as (options: object) => void)({ labels, value: 0 });
      else metric.inc(labels, 0);
    } else if (metric instanceof client.Gauge) metric.inc(labels, 0);
    else if (metric instanceof client.Histogram) {
      metric.zero(labels);
      this.native?.of(nativeKey(labels), labels);
    }
    // prom-client's Summary has no way to export a series before its first observation.
  }

  /**
   * The label values of this request, or null (and the error reported) when a label function threw or gave no
   * label value. A label set that would make a series past `seriesLimit` gives the overflow series.
   */
  private labels(req: Req, res: Res): Record<string, string> | null {
    if (this.dynamicLabels.length === 0) return this.staticLabels;
    const labels: Record<string, string> = { ...this.staticLabels };
    let key = '';
    try {
      for (const [name, fn] of this.dynamicLabels) {
        const value = labelString(fn(req, res));
        labels[name] = value;
        key += `${value}\u0000`;
      }
    } catch (error) {
      this.onLabelError(this.name, error);
      return null;
    }
    const { keys, limit } = this.series;
    if (!keys.has(key)) {
      if (keys.size >= limit) return this.overflowLabels;
      keys.add(key);
    }
    return labels;
  }

  /** A request entered the wrapper: gauges go up now, with the labels of now. */
  enter(req: Req, res: Res, now: number): EnteredWrapper | null {
    if (this.kind !== 'gauge') {
      const atStart = this.exemplars?.atStart;
      if (atStart == null) return { metric: this as CustomMetric<unknown, unknown>, start: now, labels: null };
      const entry: TracedEntry = { metric: this as CustomMetric<unknown, unknown>, start: now, labels: null, exemplar: atStart() };
      return entry;
    }
    const labels = this.labels(req, res);
    if (labels === null) return null;
    (this.metric as Gauge<string>).inc(labels);
    return { metric: this as CustomMetric<unknown, unknown>, start: now, labels };
  }

  /** The response finished (or the client went away). */
  finish(entry: EnteredWrapper, req: unknown, res: unknown, now: number): void {
    if (this.kind === 'gauge') {
      (this.metric as Gauge<string>).dec(entry.labels as Record<string, string>);
      return;
    }
    const labels = this.labels(req as Req, res as Res);
    if (labels === null) return;
    const seconds = (now - entry.start) / 1000;
    if (this.objectCalls) {
      const data: ExemplarCall = { labels, value: this.kind === 'counter' ? 1 : seconds };
      // Without `exemplarLabels` the client keeps the series' last exemplar; `{}` would replace it with an empty one.
      const exemplar = this.exemplarOf(entry, req as Req, res as Res);
      if (exemplar !== null) data.exemplarLabels = exemplar;
      if (this.kind === 'counter') (this.metric as unknown as { inc(data: ExemplarCall): void }).inc(data);
      else (this.metric as unknown as { observe(data: ExemplarCall): void }).observe(data);
    } else if (this.kind === 'counter') (this.metric as Counter<string>).inc(labels);
    else (this.metric as Histogram<string>).observe(labels, seconds);
    if (this.kind === 'histogram') this.native?.of(nativeKey(labels), labels).observe(seconds);
  }

  /** The exemplar of a request: read when it entered the wrapper (OpenTelemetry) or now (a function). */
  private exemplarOf(entry: EnteredWrapper, req: Req, res: Res): ExemplarLabels | null {
    const reader = this.exemplars;
    if (reader === null) return null;
    if (reader.atFinish !== null) return reader.atFinish(req, res);
    return (entry as TracedEntry).exemplar ?? null;
  }
}

/**
 * The metric already registered under `name` when it has the same shape (`type`, label names as a set, and
 * every other option the caller gave), else a new one from `create`, with its shape recorded (options the
 * caller left undefined recorded as in `defaults`). A TypeError naming what differs otherwise.
 */
export function reuseOrCreate<M>(registry: Registry, name: string, shape: MetricShape, create: () => M, defaults: MetricShape = {}): M {
  const existing = registry.getSingleMetric(name) as unknown as { type?: string; labelNames?: readonly string[] } | undefined;
  const here: Record<string, unknown> = { ...shape, labels: [...(shape.labels as readonly string[])].sort() };
  if (existing === undefined) {
    // Recorded with the values it was made with, so that a later clash message shows them.
    const made: Record<string, unknown> = { ...here };
    for (const [option, value] of Object.entries(defaults)) made[option] ??= value;
    return setShape(create(), made);
  }
  const there = shapeOf(existing) ?? { type: existing.type, labels: [...(existing.labelNames ?? [])].sort() };
  // A metric the app registered is reused on its type and label names: its other settings are not readable.
  const compared = shapeOf(existing) === undefined ? { type: here.type, labels: here.labels } : here;
  if (firstDifference(there, compared) === null) return existing as M;
  throw clashError(name, existing, here, 'another metric name or "registry"');
}

/** The label sets seen by a metric, bounded by `limit`. */
interface SeriesBound {
  readonly keys: Set<string>;
  readonly limit: number;
}

const bounds = new WeakMap<object, SeriesBound>();

/**
 * The series bound of `metric`, shared by every wrapper of it (the first one sets the limit). A reset of the
 * metric (`registry.resetMetrics()`) empties it along with the metric's series.
 */
function boundOf(metric: AnyMetric, limit: number): SeriesBound {
  let bound = bounds.get(metric);
  if (bound === undefined) {
    bound = { keys: new Set(), limit };
    bounds.set(metric, bound);
    const { keys } = bound;
    const reset = metric.reset;
    metric.reset = function resetWithSeriesBound(this: AnyMetric) {
      keys.clear();
      reset.call(this);
    };
  }
  return bound;
}

/** A custom metric's label values always come in the same order of names: their values alone key the series. */
function nativeKey(labels: Record<string, string>): string {
  let key = '';
  for (const name in labels) key += `${labels[name]}\u0000`;
  return key;
}

/** The native bucket settings of a histogram's `native` option (null: none), recorded in its shape when given. */
function nativeConfigOf(
  kind: CustomKind,
  name: string,
  value: unknown,
  instance: NativeConfig | null | undefined,
  shape: Record<string, unknown>,
): NativeConfig | null {
  if (kind !== 'histogram') return null;
  const config = resolveNativeConfig('native', value, instance ?? DEFAULT_NATIVE_CONFIG, ` of metric "${name}"`);
  if (value !== undefined) shape.native = config;
  return config;
}

const nativeSets = new WeakMap<object, NativeSeriesSet>();

/**
 * The native buckets kept beside a client histogram (which has none), shared by every wrapper of it: made by the
 * first wrapper with `native`, found through the metric by the protobuf exposition, emptied with the metric.
 */
function nativeSetOf(metric: AnyMetric, config: NativeConfig | null, unlabelled: boolean): NativeSeriesSet | null {
  const existing = nativeSets.get(metric);
  if (existing !== undefined || config === null) return existing ?? null;
  const set = new NativeSeriesSet(config);
  nativeSets.set(metric, set);
  Object.defineProperty(metric, kNativeSeries, {
    value: function nativeSeries() {
      return set.entries();
    },
  });
  const reset = metric.reset;
  metric.reset = function resetWithNativeSeries(this: AnyMetric) {
    set.clear();
    reset.call(this);
  };
  // The client exports a histogram without labels from creation: its native buckets too.
  if (unlabelled) set.of('', {});
  return set;
}
