import { Counter, Gauge, Histogram, type Registry, Summary } from 'prom-client';
import { assertMetricName, labelString, splitLabels } from './options.js';
import type { EnteredWrapper } from './request-record.js';
import type { CustomMetricOptions, LabelFunction } from './types.js';

export type CustomKind = 'counter' | 'gauge' | 'histogram' | 'summary';

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string> | Summary<string>;

const METRIC_CLASSES = { counter: Counter, gauge: Gauge, histogram: Histogram, summary: Summary } as const;

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
  readonly metric: AnyMetric;
  private readonly staticLabels: Record<string, string>;
  private readonly dynamicLabels: ReadonlyArray<readonly [string, LabelFunction<Req, Res>]>;
  constructor(
    readonly kind: CustomKind,
    readonly name: string,
    help: string,
    options: CustomMetricOptions<Req, Res> | undefined,
    defaults: {
      registry: Registry;
      staticLabels: ReadonlyArray<readonly [string, string]>;
      dynamicLabels: ReadonlyArray<readonly [string, LabelFunction<Req, Res>]>;
    },
    private readonly onLabelError: LabelErrorSink,
  ) {
    assertMetricName('name', name);
    if (typeof help !== 'string' || help === '') throw new TypeError(`prom-http: metric "${name}" needs a non-empty help text`);
    const opts = (options ?? {}) as Record<string, unknown>;
    const known = new Set(['labels', 'initialValueWhenOnlyStaticLabels', ...PASS_THROUGH[kind]]);
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

    this.metric = reuseOrCreate(defaults.registry, kind, name, labelNames, () => {
      const config: Record<string, unknown> = { name, help, labelNames, registers: [defaults.registry] };
      for (const key of PASS_THROUGH[kind]) if (opts[key] !== undefined) config[key] = opts[key];
      try {
        return new METRIC_CLASSES[kind](config as never);
      } catch (error) {
        throw new TypeError(`prom-http: metric "${name}": ${(error as Error).message}`);
      }
    });

    const initial = opts.initialValueWhenOnlyStaticLabels ?? true;
    if (typeof initial !== 'boolean') throw new TypeError('prom-http: option "initialValueWhenOnlyStaticLabels" must be a boolean');
    if (initial && this.dynamicLabels.length === 0 && staticPairs.length > 0) this.zero();
  }

  private zero(): void {
    const labels = this.staticLabels;
    if (this.metric instanceof Counter) this.metric.inc(labels, 0);
    else if (this.metric instanceof Gauge) this.metric.inc(labels, 0);
    else if (this.metric instanceof Histogram) this.metric.zero(labels);
    // prom-client's Summary has no way to export a series before its first observation.
  }

  /** The label values of this request, or null (and the error reported) when a label function threw. */
  private labels(req: Req, res: Res): Record<string, string> | null {
    if (this.dynamicLabels.length === 0) return this.staticLabels;
    const labels: Record<string, string> = { ...this.staticLabels };
    try {
      for (const [name, fn] of this.dynamicLabels) labels[name] = labelString(fn(req, res));
    } catch (error) {
      this.onLabelError(this.name, error);
      return null;
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

/** The metric already registered under `name` when its type and label names match; a TypeError otherwise. */
export function reuseOrCreate<M>(registry: Registry, type: string, name: string, labelNames: readonly string[], create: () => M): M {
  const existing = registry.getSingleMetric(name) as unknown as { type?: string; labelNames?: readonly string[] } | undefined;
  if (existing === undefined) return create();
  const sameLabels =
    existing.labelNames !== undefined &&
    existing.labelNames.length === labelNames.length &&
    labelNames.every((n) => existing.labelNames?.includes(n));
  if (existing.type === type && sameLabels) return existing as M;
  throw new TypeError(
    `prom-http: metric "${name}" is already registered as a ${existing.type ?? 'metric'} with labels [${(existing.labelNames ?? []).join(', ')}]; ` +
      `cannot create a ${type} with labels [${labelNames.join(', ')}]`,
  );
}
