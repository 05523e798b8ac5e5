import type { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import type { Client } from './client.js';
import { labelString, splitLabels } from './label-values.js';
import { clashError, firstDifference, type MetricShape, setShape, shapeOf } from './metric-clash.js';
import { assertMetricName } from './option-checks.js';
import { OVERFLOW } from './request-metrics.js';
import type { EnteredWrapper } from './request-record.js';
import type { CustomMetricOptions, LabelFunction, MetricLike, PromClientLike, RegistryLike } from './types.js';

export type CustomKind = 'counter' | 'gauge' | 'histogram' | 'summary';

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string> | Summary<string>;

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

    const metric: AnyMetric = reuseOrCreate(
      registry,
      name,
      shape,
      () => {
        const config: Record<string, unknown> = { name, help, labelNames, registers: [registry] };
        for (const key of PASS_THROUGH[kind]) if (opts[key] !== undefined) config[key] = opts[key];
        try {
          const classes = { counter: client.Counter, gauge: client.Gauge, histogram: client.Histogram, summary: client.Summary };
          return new classes[kind](config as never);
        } catch (error) {
          throw new TypeError(`prom-http: metric "${name}": ${(error as Error).message}`);
        }
      },
      { seriesLimit: defaults.seriesLimit },
    );
    this.metric = metric;
    this.series = boundOf(metric, (seriesLimit as number | undefined) ?? defaults.seriesLimit);
    this.overflowLabels = { ...this.staticLabels };
    for (const [n] of this.dynamicLabels) this.overflowLabels[n] = OVERFLOW;

    const initial = opts.initialValueWhenOnlyStaticLabels ?? true;
    if (typeof initial !== 'boolean') throw new TypeError('prom-http: option "initialValueWhenOnlyStaticLabels" must be a boolean');
    if (initial && this.dynamicLabels.length === 0 && staticPairs.length > 0) this.zero();
  }

  private zero(): void {
    const labels = this.staticLabels;
    const { metric, client } = this;
    if (metric instanceof client.Counter) metric.inc(labels, 0);
    else if (metric instanceof client.Gauge) metric.inc(labels, 0);
    else if (metric instanceof client.Histogram) metric.zero(labels);
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
    if (this.kind !== 'gauge') return { metric: this as CustomMetric<unknown, unknown>, start: now, labels: null };
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
    if (this.kind === 'counter') (this.metric as Counter<string>).inc(labels);
    else (this.metric as Histogram<string>).observe(labels, (now - entry.start) / 1000);
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
