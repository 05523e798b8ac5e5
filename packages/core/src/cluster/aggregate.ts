import type { NativeHistogram } from '../native/histogram.js';
import { ClusterFamily } from './cluster-family.js';
import { exactSum } from './exact-sum.js';
import { decodeNatives, sumNatives } from './native-sum.js';
import type { WireFamily } from './wire.js';

/** How the values of one sample are reduced to one: prom-client's aggregator names (`sum` when unknown). */
const SUM = 0;
const MAX = 1;
const MIN = 2;
const FIRST = 3;
const AVERAGE = 4;
const MODES: Record<string, number> = { sum: SUM, max: MAX, min: MIN, first: FIRST, average: AVERAGE };

/** A process's copy of one family's sample table (see {@link WireFamily}), as the primary mirrors it. */
export class SourceTable {
  readonly metricNames: string[] = [];
  /** Per sample of the table: its cluster-wide index. */
  readonly global: number[] = [];
  /** Per sample of the table: its labels' text, in its own order. */
  readonly display: string[] = [];
}

/** One family as one process reported it, or as the retired total holds it. */
export interface Reported {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  /** `global` is renumbered in place when the primary compacts the family (see `ClusterTables.compact`). */
  table: { readonly global: number[]; readonly display: readonly string[] };
  values: readonly number[];
  /** The table index of each value; null: value `j` is entry `j`. */
  indices: readonly number[] | null;
  /** The retired total's exact sums, where its rounded value alone would lose them (null where it would not). */
  partials?: ReadonlyArray<number[] | null>;
  /** A histogram's native buckets by series key (see `WireNative`), when it keeps them. */
  natives?: ReadonlyMap<string, NativeHistogram>;
}

/** What one process adds to a scrape: all of its families, or (`monotonic`) only what must never go back. */
export interface Contribution {
  families: Iterable<Reported>;
  /** Only counters, histograms, and a summary's `_sum` and `_count`: a process that is not there any more. */
  monotonic: boolean;
}

/** One family of the sum: its samples in the order first seen, their labels and values. */
export interface AggregatedFamily {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  cluster: ClusterFamily;
  order: number[];
  display: string[];
  values: number[];
  partials: Array<number[] | null> | null;
  /** The summed native buckets by series key, when a process reported some. */
  natives: Map<string, NativeHistogram> | null;
}

function isMonotonicType(type: string): boolean {
  return type === 'counter' || type === 'histogram' || type === 'summary';
}

/**
 * The primary's tables of every family's samples, and the aggregation over them. Aggregates the way
 * prom-client's `AggregatorRegistry.aggregate` does (families and samples in the order first seen, each sample
 * reduced by its family's `aggregator`, `omit` drops the family), except that sums are exact (see `exactSum`;
 * they can differ from prom-client's left-to-right sum in the last digit) and a summary's quantiles under the
 * default `sum` take the maximum: the cluster-wide q-quantile lies between the smallest and the largest of the
 * workers', so the maximum is a true upper bound, the safe side for latency objectives. A family whose type
 * differs from the first one seen under its name is left out for that process: it cannot be rendered as one.
 */
export class ClusterTables {
  private readonly families = new Map<string, ClusterFamily>();

  /**
   * Families whose samples are mostly ones no process reports any more (label values that come and go): their
   * indices are worth renumbering (see `compact`), so that the primary does not keep every label value ever seen.
   */
  sparse(): string[] {
    const out: string[] = [];
    for (const [name, family] of this.families) {
      if (family.size > 2 * family.lastSeen + 1024 && family.size > 2 * family.compactedAt) out.push(name);
    }
    return out;
  }

  /**
   * Renumbers the samples of family `name` that `holders` (every table that refers to them: each process's
   * copy, the retired total's) still refer to, rewriting the holders in place, and forgets the others.
   */
  compact(name: string, holders: ReadonlyArray<{ global: number[] }>): void {
    const family = this.families.get(name);
    if (family === undefined) return;
    const remap = new Int32Array(family.size).fill(-1);
    let size = 0;
    for (const { global } of holders) {
      for (const g of global) if (remap[g] === -1) remap[g] = size++;
    }
    if (size === family.size) {
      family.compactedAt = size;
      return;
    }
    family.renumber(remap, size);
    for (const { global } of holders) {
      for (let w = 0; w < global.length; w++) global[w] = remap[global[w] as number] as number;
    }
  }

  private family(name: string): ClusterFamily {
    let family = this.families.get(name);
    if (family === undefined) {
      family = new ClusterFamily();
      this.families.set(name, family);
    }
    return family;
  }

  /**
   * Reads one family of a process's report into `tables` (the primary's copy of that process's tables). Null
   * when the report does not fit the copy (it was made for tables the primary no longer has): the process must
   * then be asked for its tables whole.
   */
  apply(tables: Map<string, SourceTable>, wire: WireFamily): Reported | null {
    let table = tables.get(wire.n);
    if (wire.r === 1) {
      table = new SourceTable();
      tables.set(wire.n, table);
    } else if (table === undefined || table.global.length !== wire.b) {
      return null;
    }
    const family = this.family(wire.n);
    if (wire.mn !== undefined) table.metricNames.push(...wire.mn);
    const { m = [], l = [], s, q } = wire;
    let nextQuantile = 0;
    for (let k = 0; k < m.length; k++) {
      const mi = m[k] as number;
      const text = l[k] ?? '';
      const quantile = q !== undefined && q[nextQuantile] === k;
      if (quantile) nextQuantile++;
      table.global.push(family.index(mi === 0 ? undefined : table.metricNames[mi - 1], s?.[k] || text, quantile));
      table.display.push(text);
    }
    const values = wire.v;
    for (let j = 0; j < values.length; j++) if (typeof values[j] !== 'number') values[j] = Number(values[j]);
    const size = table.global.length;
    const indices = wire.i ?? null;
    if (indices === null ? values.length > size : indices.length !== values.length || indices.some((i) => !(i >= 0 && i < size))) {
      return null;
    }
    const reported: Reported = { name: wire.n, help: wire.h, type: wire.t, aggregator: wire.a, table, values: values as number[], indices };
    if (wire.nh !== undefined) reported.natives = decodeNatives(wire.nh);
    return reported;
  }

  /**
   * The sum of `contributions`, in their order. `keepPartials` keeps each sum's exact partials, for a total
   * that is added to later (the retired one).
   */
  aggregate(contributions: readonly Contribution[], keepPartials = false): AggregatedFamily[] {
    const byName = new Map<string, Array<{ reported: Reported; monotonic: boolean }>>();
    for (const { families, monotonic } of contributions) {
      for (const reported of families) {
        if (monotonic && !isMonotonicType(reported.type)) continue;
        const parts = byName.get(reported.name);
        if (parts === undefined) byName.set(reported.name, [{ reported, monotonic }]);
        else if ((parts[0] as { reported: Reported }).reported.type === reported.type) parts.push({ reported, monotonic });
      }
    }
    const out: AggregatedFamily[] = [];
    for (const [name, parts] of byName) {
      const { help, type, aggregator } = (parts[0] as { reported: Reported }).reported;
      if (aggregator === 'omit') continue;
      const family = this.families.get(name);
      if (family === undefined) continue;
      out.push(this.aggregateFamily(family, { name, help, type, aggregator }, parts, keepPartials));
    }
    return out;
  }

  private aggregateFamily(
    family: ClusterFamily,
    meta: { name: string; help: string; type: string; aggregator: string },
    parts: ReadonlyArray<{ reported: Reported; monotonic: boolean }>,
    keepPartials: boolean,
  ): AggregatedFamily {
    const epoch = family.nextEpoch();
    const { mark, acc, count, slow, quantile } = family;
    const familyMode = MODES[meta.aggregator] ?? SUM;
    const quantileMode = meta.type === 'summary' && meta.aggregator === 'sum' ? MAX : familyMode;
    const isSummary = meta.type === 'summary';
    const order: number[] = [];
    const display: string[] = [];
    let anySlow = false;
    for (const { reported, monotonic } of parts) {
      const { global, display: texts } = reported.table;
      const { values, indices, partials } = reported;
      const skipQuantiles = monotonic && isSummary;
      for (let j = 0; j < values.length; j++) {
        const w = indices === null ? j : (indices[j] as number);
        const g = global[w] as number;
        if (skipQuantiles && quantile[g] === 1) continue;
        const x = values[j] as number;
        const mode = quantile[g] === 1 ? quantileMode : familyMode;
        const exact = mode === SUM ? partials?.[j] : null;
        if (mark[g] !== epoch) {
          mark[g] = epoch;
          order.push(g);
          display.push(texts[w] as string);
          acc[g] = x;
          count[g] = 1;
          slow[g] = exact != null && exact.length > 1 ? 1 : 0;
          if (slow[g] === 1) anySlow = true;
          continue;
        }
        count[g] = (count[g] as number) + 1;
        if (mode === SUM || mode === AVERAGE) {
          if (slow[g] === 1) continue;
          const a = acc[g] as number;
          const t = a + x;
          const b = t - a;
          // Two-sum: while no addition rounds, the running sum is the exact sum; the first one that does (or a
          // retired total's partials) sends the sample to the exact path below.
          if ((exact == null || exact.length <= 1) && a - (t - b) + (x - b) === 0 && Number.isFinite(t)) {
            acc[g] = t;
          } else {
            slow[g] = 1;
            anySlow = true;
          }
        } else if (mode === MAX) {
          acc[g] = Math.max(acc[g] as number, x);
        } else if (mode === MIN) {
          acc[g] = Math.min(acc[g] as number, x);
        }
      }
    }

    const exactPartials = anySlow ? this.exactPass(family, epoch, parts, quantileMode, familyMode) : null;
    const values: number[] = new Array(order.length);
    const partials: Array<number[] | null> | null = keepPartials ? new Array(order.length).fill(null) : null;
    for (let pos = 0; pos < order.length; pos++) {
      const g = order[pos] as number;
      const mode = quantile[g] === 1 ? quantileMode : familyMode;
      let value = acc[g] as number;
      if (slow[g] === 1) {
        const sum = exactPartials?.get(g) as { value: number; partials: number[] };
        value = mode === AVERAGE ? sum.value / (count[g] as number) : sum.value;
        if (partials !== null && mode === SUM) partials[pos] = sum.partials;
      } else if (mode === AVERAGE) {
        value /= count[g] as number;
      }
      values[pos] = value;
    }
    if (!keepPartials) family.lastSeen = order.length;
    const natives = meta.type === 'histogram' ? sumNatives(parts.map(({ reported }) => reported)) : null;
    return { ...meta, cluster: family, order, display, values, partials, natives };
  }

  /** The exact sums of the samples marked `slow`: every value again, in the same order, retired partials in full. */
  private exactPass(
    family: ClusterFamily,
    epoch: number,
    parts: ReadonlyArray<{ reported: Reported; monotonic: boolean }>,
    quantileMode: number,
    familyMode: number,
  ): Map<number, { value: number; partials: number[] }> {
    const { mark, slow, quantile } = family;
    const lists = new Map<number, number[]>();
    for (const { reported, monotonic } of parts) {
      const { global } = reported.table;
      const { values, indices, partials } = reported;
      const skipQuantiles = monotonic && reported.type === 'summary';
      for (let j = 0; j < values.length; j++) {
        const g = global[indices === null ? j : (indices[j] as number)] as number;
        if (slow[g] !== 1 || mark[g] !== epoch || (skipQuantiles && quantile[g] === 1)) continue;
        let list = lists.get(g);
        if (list === undefined) {
          list = [];
          lists.set(g, list);
        }
        const exact = (quantile[g] === 1 ? quantileMode : familyMode) === SUM ? partials?.[j] : null;
        if (exact != null && exact.length > 0) list.push(...exact);
        else list.push(values[j] as number);
      }
    }
    const sums = new Map<number, { value: number; partials: number[] }>();
    for (const [g, list] of lists) sums.set(g, exactSum(list));
    return sums;
  }
}

/** An aggregated family as the retired total keeps it: a contribution like any process's. */
export function asReported(family: AggregatedFamily): Reported {
  const reported: Reported = {
    name: family.name,
    help: family.help,
    type: family.type,
    aggregator: family.aggregator,
    table: { global: family.order, display: family.display },
    values: family.values,
    indices: null,
  };
  if (family.partials !== null) reported.partials = family.partials;
  if (family.natives !== null) reported.natives = family.natives;
  return reported;
}
