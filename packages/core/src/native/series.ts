import { type NativeConfig, NativeHistogram } from './histogram.js';

type Labels = Record<string, string | number>;

/** What a histogram family with native buckets exposes for the protobuf exposition. */
export const kNativeSeries = Symbol.for('prom-http.nativeSeries');

/** A histogram family (ours or the client's) that keeps native buckets beside its classic ones. */
export interface NativeSeriesSource {
  /** The native buckets of each series, with the series' labels as `get()` gives them (without `le`). */
  [kNativeSeries](): Iterable<readonly [Labels, NativeHistogram]>;
}

/** Whether `metric` keeps native buckets. */
export function hasNativeSeries(metric: object): metric is NativeSeriesSource {
  return typeof (metric as Partial<NativeSeriesSource>)[kNativeSeries] === 'function';
}

/** A key of a label set whatever the order of its names. */
export function seriesKey(labels: Labels): string {
  let key = '';
  for (const name of Object.keys(labels).sort()) key += `${name}\u0000${labels[name]}\u0001`;
  return key;
}

/** The native buckets of `source` by `seriesKey` of their labels. */
export function nativeSeriesOf(source: NativeSeriesSource): Map<string, NativeHistogram> {
  const byKey = new Map<string, NativeHistogram>();
  for (const [labels, histogram] of source[kNativeSeries]()) byKey.set(seriesKey(labels), histogram);
  return byKey;
}

/**
 * The native buckets of a client histogram, which has none of its own: one per label set, kept beside it and
 * found by a key the caller makes once per label set (its label values in a fixed order).
 */
export class NativeSeriesSet {
  private readonly series = new Map<string, { labels: Labels; histogram: NativeHistogram }>();
  constructor(private readonly config: NativeConfig) {}

  /** The buckets of the series `key`, created on first use. */
  of(key: string, labels: Labels): NativeHistogram {
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, histogram: new NativeHistogram(this.config) };
      this.series.set(key, entry);
    }
    return entry.histogram;
  }

  *entries(): Iterable<readonly [Labels, NativeHistogram]> {
    for (const { labels, histogram } of this.series.values()) yield [labels, histogram];
  }

  clear(): void {
    this.series.clear();
  }
}
