import type { Registry } from 'prom-client';
import { escapeLabelValue, type FamilyData } from '../exposition-format.js';
import { hasNativeSeries } from '../native/series.js';
import { encodeNatives, type WireNative } from './native-sum.js';
import { encodeStore, type StoreSource, StoreTable, storeSource } from './store-encoding.js';

/** Default of {@link ClusterPrimaryOptions.timeout}. */
export const DEFAULT_CLUSTER_TIMEOUT = 1000;

/** IPC message types; prefixed so that they never meet the application's own messages. */
export const HELLO = 'prom-http:hello';
export const ROLL_CALL = 'prom-http:roll-call';
export const WELCOME = 'prom-http:welcome';
export const COLLECT = 'prom-http:collect';
export const REPORT_REQUEST = 'prom-http:report-request';
export const REPORT = 'prom-http:report';
export const SUM = 'prom-http:sum';

/** Numbers JSON cannot carry (NaN, +/-Infinity) cross the IPC channel as their `String()`; `Number()` reads them back. */
export type WireNumber = number | string;

/**
 * One family of a worker's report, shaped for Node's default (JSON) IPC, where strings and arrays of numbers
 * are cheap and many small objects are not. The worker numbers the samples of each family in a table that the
 * primary mirrors: a sample's identity (its metric name and labels) crosses once, when it enters the table;
 * after that only its value does, by position.
 */
export interface WireFamily {
  /** Name, help, type and aggregator (prom-client's names; `sum` when the metric has none). */
  n: string;
  h: string;
  t: string;
  a: string;
  /** The table's length before this report's new samples: the primary checks that its copy has the same. */
  b: number;
  /** Set when the worker started the table afresh (`b` is then 0): the primary drops its copy first. */
  r?: 1;
  /** Metric names new to the table (`x_bucket`...); `m` refers to them from 1 up, 0 being "none" (the family's name). */
  mn?: string[];
  /** Per new sample: its metric name (see `mn`). */
  m?: number[];
  /** Per new sample: its labels as the exposition writes them (`a="1",b="x"`), in the sample's own order. */
  l?: string[];
  /** Per new sample whose labels are not in name order: the same text in name order (0 where `l` is already). */
  s?: Array<string | 0>;
  /** New samples that are summary quantiles, by their position among the new ones. */
  q?: number[];
  /** The values, in the order of the family's samples. */
  v: WireNumber[];
  /** The table index of each value; left out when value `j` is table entry `j`. */
  i?: number[];
  /** A histogram's native buckets, when it keeps them. */
  nh?: WireNative[];
}

export type Message =
  | { type: typeof HELLO }
  | { type: typeof ROLL_CALL }
  | { type: typeof WELCOME; timeout: number }
  /** `protobuf`: the sum is wanted in the protobuf exposition (then `SUM` carries it in base64). */
  | { type: typeof COLLECT; id: number; names: string[] | null; openMetrics: boolean; protobuf?: boolean }
  /** `fresh`: the primary has no copy of the worker's tables (it is new to it, or lost track): send them whole. */
  | { type: typeof REPORT_REQUEST; id: number; names: string[] | null; fresh: boolean }
  | { type: typeof REPORT; id: number; families?: WireFamily[]; error?: string }
  /**
   * `body`: the cluster-wide exposition, rendered by the primary in the format the scrape asked for (base64 for
   * the protobuf exposition: JSON carries no bytes).
   */
  | { type: typeof SUM; id: number; body?: string; error?: string };

export function isMessage(message: unknown): message is Message {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('prom-http:')
  );
}

export function wantedNames(names: readonly string[] | undefined): string[] | null {
  return names !== undefined && names.length > 0 ? [...names] : null;
}

// --- encoding a process's families ---------------------------------------------------------------

interface CollectableMetric {
  name: string;
  type?: string;
  get(): Promise<FamilyData> | FamilyData;
}

/** One family's sample table, as the process that reports it keeps it. */
class SampleTable {
  size = 0;
  readonly metricNames = new Map<string, number>();
  /** By metric-name index (0: none), the labels in name order -> the sample's index. */
  readonly keys: Array<Map<string, number>> = [new Map()];
}

/**
 * Reads a process's registries (prom-client's `get()` of every metric, registry default labels merged as
 * prom-client's `getMetricsAsJSON()` merges them, exemplars dropped) into {@link WireFamily}s, keeping the
 * sample tables that make the next report of the same samples a list of numbers.
 */
export class FamilyEncoder {
  private tables = new Map<string, SampleTable | StoreTable>();

  /** Forgets every table: the next report sends each family whole. */
  reset(): void {
    this.tables = new Map();
  }

  async collect(registries: Iterable<Registry>, names: ReadonlySet<string> | null): Promise<WireFamily[]> {
    const seen = new Set<string>();
    const jobs: Array<Promise<FamilyData> | FamilyData | null> = [];
    const sources: Array<{
      store: StoreSource | null;
      defaults: Record<string, string | number> | null;
      metric: CollectableMetric;
    }> = [];
    for (const registry of registries) {
      const labels = (registry as unknown as { _defaultLabels?: Record<string, string | number> })._defaultLabels;
      const defaults = labels !== undefined && Object.keys(labels).length > 0 ? labels : null;
      for (const metric of registry.getMetricsAsArray() as unknown as CollectableMetric[]) {
        if (seen.has(metric.name) || (names !== null && !names.has(metric.name))) continue;
        seen.add(metric.name);
        // Registry default labels are merged by `encode`; the store path leaves them out.
        const store = defaults === null ? storeSource(metric) : null;
        jobs.push(store === null ? metric.get() : null);
        sources.push({ store, defaults, metric });
      }
    }
    const data = await Promise.all(jobs);
    // Encoded in one synchronous pass after every get(): the tables then change in the order reports are sent.
    return sources.map(({ store, defaults, metric }, i) => {
      const wire = store !== null ? this.encodeStore(store) : this.encode(data[i] as FamilyData, defaults);
      if (wire.t === 'histogram' && hasNativeSeries(metric)) wire.nh = encodeNatives(metric, defaults);
      return wire;
    });
  }

  private encodeStore(source: StoreSource): WireFamily {
    const previous = this.tables.get(source.name);
    const { table, wire } = encodeStore(source, previous instanceof StoreTable ? previous : undefined);
    this.tables.set(source.name, table);
    return wire;
  }

  private encode(data: FamilyData, defaults: Record<string, string | number> | null): WireFamily {
    const samples = data.values ?? [];
    let table = this.tables.get(data.name);
    if (table instanceof StoreTable) table = undefined;
    // A table that holds many samples no longer reported (removed series) is started again rather than kept.
    const restart = table === undefined || table.size > 2 * samples.length + 64;
    if (restart) {
      table = new SampleTable();
      this.tables.set(data.name, table);
    }
    const t = table as SampleTable;
    const out: WireFamily = { n: data.name, h: data.help, t: data.type, a: data.aggregator ?? 'sum', b: t.size, v: [] };
    if (restart) out.r = 1;
    const values: WireNumber[] = new Array(samples.length);
    let indices: number[] | null = null;
    // What the table gets from this report (see WireFamily).
    const newMetricNames: string[] = [];
    const newM: number[] = [];
    const newL: string[] = [];
    const newS: Array<string | 0> = [];
    const newQ: number[] = [];
    // The labels of the current sample, for its name-ordered text when they are not in name order.
    const labelNames: string[] = [];
    const pieces: string[] = [];
    for (let j = 0; j < samples.length; j++) {
      const sample = samples[j] as NonNullable<FamilyData['values']>[number];
      const value = sample.value;
      values[j] = Number.isFinite(value) ? value : String(value);

      let m = 0;
      if (sample.metricName !== undefined) {
        let known = t.metricNames.get(sample.metricName);
        if (known === undefined) {
          known = t.metricNames.size + 1;
          t.metricNames.set(sample.metricName, known);
          t.keys.push(new Map());
          newMetricNames.push(sample.metricName);
        }
        m = known;
      }
      const labels = sample.labels ?? {};
      let text = '';
      let inOrder = true;
      let quantile = false;
      labelNames.length = 0;
      pieces.length = 0;
      for (const name in labels) {
        let value = labels[name];
        // prom-client's merge: `labels[n] || defaults[n]`, a registry default filling an empty value too.
        if (defaults !== null && Object.hasOwn(defaults, name)) value = value || (defaults[name] as string | number);
        const piece = `${name}="${typeof value === 'string' ? escapeLabelValue(value) : value}"`;
        text += text === '' ? piece : `,${piece}`;
        if (labelNames.length > 0 && name < (labelNames[labelNames.length - 1] as string)) inOrder = false;
        labelNames.push(name);
        pieces.push(piece);
        if (name === 'quantile') quantile = true;
      }
      if (defaults !== null) {
        for (const name in defaults) {
          if (Object.hasOwn(labels, name)) continue;
          const value = defaults[name] as string | number;
          const piece = `${name}="${typeof value === 'string' ? escapeLabelValue(value) : value}"`;
          text += text === '' ? piece : `,${piece}`;
          if (labelNames.length > 0 && name < (labelNames[labelNames.length - 1] as string)) inOrder = false;
          labelNames.push(name);
          pieces.push(piece);
          if (name === 'quantile') quantile = true;
        }
      }
      const key = inOrder ? text : sortedLabelText(labelNames, pieces);
      const keys = t.keys[m] as Map<string, number>;
      let index = keys.get(key);
      if (index === undefined) {
        index = t.size++;
        keys.set(key, index);
        const k = index - out.b;
        newM.push(m);
        newL.push(text);
        if (!inOrder) {
          while (newS.length < k) newS.push(0);
          newS.push(key);
        }
        if (quantile && sample.metricName === undefined) newQ.push(k);
      }
      if (indices !== null) indices.push(index);
      else if (index !== j) {
        indices = [];
        for (let p = 0; p < j; p++) indices.push(p);
        indices.push(index);
      }
    }
    if (newMetricNames.length > 0) out.mn = newMetricNames;
    if (newM.length > 0) {
      out.m = newM;
      out.l = newL;
    }
    if (newS.length > 0) out.s = newS;
    if (newQ.length > 0) out.q = newQ;
    out.v = values;
    if (indices !== null) out.i = indices;
    return out;
  }
}

/** The labels' text in name order: a sample's identity whatever the order its labels were given in. */
function sortedLabelText(names: readonly string[], pieces: readonly string[]): string {
  return names
    .map((_, i) => i)
    .sort((a, b) => ((names[a] as string) < (names[b] as string) ? -1 : 1))
    .map((i) => pieces[i])
    .join(',');
}
