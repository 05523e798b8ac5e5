import { escapeLabelValue } from '../exposition/text-format.js';
import { DurationHistogram, RequestCounter } from '../request/families.js';
import type { Series } from '../request/series-store.js';
import type { WireFamily, WireNumber } from './wire.js';

/**
 * prom-http's own request families, reported straight from their series store rather than through `get()`:
 * the store only ever appends series (until `reset()`), so a family's sample table is positional, and a report
 * is the numbers of the store read in place; labels are only formatted for series the table has not had yet.
 */
export interface StoreSource {
  name: string;
  help: string;
  type: string;
  /** What each series contributes: its histogram, its request count or its exception count. */
  kind: 'histogram' | 'total' | 'exceptions';
  series: readonly Series[];
  buckets: readonly number[];
}

/** The store behind `metric` when it is one of prom-http's request families (of this copy of the package). */
export function storeSource(metric: unknown): StoreSource | null {
  if (metric instanceof DurationHistogram) {
    const { store } = metric;
    return { name: metric.name, help: metric.help, type: 'histogram', kind: 'histogram', series: store.series, buckets: store.buckets };
  }
  if (metric instanceof RequestCounter) {
    const { store } = metric;
    // Which of the two counters it is is private to the family; its samples say the same: see `getForPromString`.
    const exceptions = (metric as unknown as { exceptions: boolean }).exceptions;
    return {
      name: metric.name,
      help: metric.help,
      type: 'counter',
      kind: exceptions ? 'exceptions' : 'total',
      series: store.series,
      buckets: store.buckets,
    };
  }
  return null;
}

/** A store family's table: `seen` series of the store are in it, `first` tells a reset store from the same one. */
export class StoreTable {
  seen = 0;
  first: Series | undefined = undefined;
}

/** The family's report, and its table (a new one when the store was reset since the last report). */
export function encodeStore(source: StoreSource, previous: StoreTable | undefined): { table: StoreTable; wire: WireFamily } {
  const { series, buckets } = source;
  let table = previous;
  const restart = table === undefined || series.length < table.seen || (table.seen > 0 && series[0] !== table.first);
  if (restart) table = new StoreTable();
  const t = table as StoreTable;
  const perSeries = source.kind === 'histogram' ? buckets.length + 3 : 1;
  const wire: WireFamily = { n: source.name, h: source.help, t: source.type, a: 'sum', b: t.seen * perSeries, v: [] };
  if (restart) wire.r = 1;
  if (series.length > t.seen) addSeries(source, t, wire);

  const values: WireNumber[] = [];
  if (source.kind === 'histogram') {
    values.length = series.length * perSeries;
    let p = 0;
    for (const s of series) {
      let acc = 0;
      for (let i = 0; i < buckets.length; i++) {
        acc += s.counts[i] as number;
        values[p++] = acc;
      }
      values[p++] = s.count;
      values[p++] = s.sum;
      values[p++] = s.count;
    }
  } else if (source.kind === 'total') {
    values.length = series.length;
    for (let p = 0; p < series.length; p++) values[p] = (series[p] as Series).count;
  } else {
    // Only series with exceptions have the sample, as in the family's own exposition.
    const indices: number[] = [];
    for (let p = 0; p < series.length; p++) {
      const exceptions = (series[p] as Series).exceptions;
      if (exceptions === 0) continue;
      indices.push(p);
      values.push(exceptions);
    }
    if (indices.some((index, j) => index !== j)) wire.i = indices;
  }
  for (let p = 0; p < values.length; p++) if (!Number.isFinite(values[p])) values[p] = String(values[p]);
  wire.v = values;
  return { table: t, wire };
}

/** The samples of the series the table does not have yet, as `get()` labels them. */
function addSeries(source: StoreSource, table: StoreTable, wire: WireFamily): void {
  const { series, buckets } = source;
  const histogram = source.kind === 'histogram';
  const m: number[] = [];
  const l: string[] = [];
  const s: Array<string | 0> = [];
  const sorted = (display: string, key: string) => {
    if (key !== display) {
      while (s.length < l.length - 1) s.push(0);
      s.push(key);
    }
  };
  if (histogram && table.seen === 0) wire.mn = [`${source.name}_bucket`, `${source.name}_sum`, `${source.name}_count`];
  const bounds = buckets.map((b) => `le="${b}"`);
  for (let p = table.seen; p < series.length; p++) {
    const one = series[p] as Series;
    const names = Object.keys(one.labels);
    const pieces = names.map((name) => `${name}="${escapeLabelValue(one.labels[name] as string)}"`);
    const order = names.map((_, i) => i).sort((a, b) => ((names[a] as string) < (names[b] as string) ? -1 : 1));
    const key = order.map((i) => pieces[i]).join(',');
    if (histogram) {
      // `le` goes first in the display (get() puts it first) and in name order among the others in the key.
      const before = order.filter((i) => (names[i] as string) < 'le').map((i) => pieces[i]);
      const after = order.filter((i) => (names[i] as string) >= 'le').map((i) => pieces[i]);
      for (const bound of [...bounds, 'le="+Inf"']) {
        m.push(1);
        l.push(one.text === '' ? bound : `${bound},${one.text}`);
        sorted(l[l.length - 1] as string, [...before, bound, ...after].join(','));
      }
      for (const metric of [2, 3]) {
        m.push(metric);
        l.push(one.text);
        sorted(one.text, key);
      }
    } else {
      m.push(0);
      l.push(one.text);
      sorted(one.text, key);
    }
  }
  wire.m = m;
  wire.l = l;
  if (s.length > 0) wire.s = s;
  table.seen = series.length;
  table.first = series[0];
}
