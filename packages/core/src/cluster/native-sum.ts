import { encodeFamily, type ProtoWriter } from '../exposition/protobuf.js';
import { escapeLabelValue, type FamilyData } from '../exposition/text-format.js';
import { NativeHistogram } from '../native/histogram.js';
import { kNativeSeries, type NativeSeriesSource } from '../native/series.js';
import type { AggregatedFamily, Reported } from './aggregate.js';
import type { ExtraGauge } from './render-aggregated.js';

/**
 * The native buckets of one series as a report carries them: its labels' text in name order (the key the
 * processes agree on), schema, zero threshold, zero count, `maxBuckets`, and the positive and negative buckets as
 * flat `[key, count, key, count, ...]` lists. Sent whole in every report: a series has a few dozen buckets.
 */
export type WireNative = [
  key: string,
  schema: number,
  zeroThreshold: number,
  zeroCount: number,
  maxBuckets: number,
  positive: number[],
  negative: number[],
];

type Labels = Record<string, string | number>;

/** The labels' text in name order, the registry's defaults merged as the classic samples' are (see `FamilyEncoder`). */
function keyOf(labels: Labels, defaults: Labels | null): string {
  const all: Labels = { ...labels };
  if (defaults !== null) {
    for (const name in defaults) all[name] = all[name] || (defaults[name] as string | number);
  }
  return Object.keys(all)
    .sort()
    .map((name) => {
      const value = all[name] as string | number;
      return `${name}="${typeof value === 'string' ? escapeLabelValue(value) : value}"`;
    })
    .join(',');
}

function flat(buckets: ReadonlyMap<number, number>): number[] {
  const out: number[] = [];
  for (const [key, count] of buckets) out.push(key, count);
  return out;
}

/** The native buckets of a family that keeps them, for a report. */
export function encodeNatives(source: NativeSeriesSource, defaults: Labels | null): WireNative[] {
  const out: WireNative[] = [];
  for (const [labels, h] of source[kNativeSeries]()) {
    out.push([keyOf(labels, defaults), h.schema, h.zeroThreshold, h.zeroCount, h.config.maxBuckets, flat(h.positive), flat(h.negative)]);
  }
  return out;
}

/** A report's native buckets, by series key. */
export function decodeNatives(wire: readonly WireNative[]): Map<string, NativeHistogram> {
  const out = new Map<string, NativeHistogram>();
  for (const [key, schema, zeroThreshold, zeroCount, maxBuckets, positive, negative] of wire) {
    const h = new NativeHistogram({ schema, zeroThreshold, maxBuckets });
    h.zeroCount = zeroCount;
    for (let i = 0; i < positive.length; i += 2) h.positive.set(positive[i] as number, positive[i + 1] as number);
    for (let i = 0; i < negative.length; i += 2) h.negative.set(negative[i] as number, negative[i + 1] as number);
    out.set(key, h);
  }
  return out;
}

/**
 * The sum of the native buckets of one family over the processes that report it: each series at the coarsest
 * schema any process has for it (see `NativeHistogram.merge`). The reports' own buckets are left as they are.
 */
export function sumNatives(parts: Iterable<Reported>): Map<string, NativeHistogram> | null {
  let sum: Map<string, NativeHistogram> | null = null;
  for (const { natives } of parts) {
    if (natives === undefined) continue;
    sum ??= new Map();
    for (const [key, h] of natives) {
      const total = sum.get(key);
      if (total === undefined) sum.set(key, h.clone());
      else total.merge(h);
    }
  }
  return sum;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Labels from the exposition's label text (`a="1",b="x\"y"`), unescaped. */
export function parseLabelText(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [, name, value] of text.matchAll(LABEL)) {
    labels[name as string] = (value as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** The sum in the protobuf exposition: the classic samples as the text formats have them, plus the summed native buckets. */
export function renderAggregatedProtobuf(w: ProtoWriter, families: readonly AggregatedFamily[], gauges: readonly ExtraGauge[]): void {
  for (const family of families) {
    const metricName = family.cluster.metricName;
    const values: NonNullable<FamilyData['values']> = family.order.map((g, pos) => {
      const sample: NonNullable<FamilyData['values']>[number] = {
        labels: parseLabelText(family.display[pos] as string),
        value: family.values[pos] as number,
      };
      const name = metricName[g];
      if (name !== undefined) sample.metricName = name;
      return sample;
    });
    const natives = family.natives;
    const source: NativeSeriesSource | null =
      natives === null
        ? null
        : {
            *[kNativeSeries]() {
              for (const [key, h] of natives) yield [parseLabelText(key), h] as const;
            },
          };
    encodeFamily(w, { name: family.name, help: family.help, type: family.type, values }, null, source);
  }
  for (const gauge of gauges)
    encodeFamily(w, { name: gauge.name, help: gauge.help, type: 'gauge', values: [{ value: gauge.value }] }, null, null);
}
