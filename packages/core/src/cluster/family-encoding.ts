import type { Registry } from 'prom-client';
import { escapeLabelValue, type FamilyData } from '../exposition/text-format.js';
import { hasNativeSeries } from '../native/series.js';
import { encodeNatives } from './native-sum.js';
import { encodeStore, type StoreSource, StoreTable, storeSource } from './store-encoding.js';
import type { WireFamily, WireNumber } from './wire.js';

interface CollectableMetric {
  name: string;
  get(): Promise<FamilyData> | FamilyData;
}

type Sample = NonNullable<FamilyData['values']>[number];
type LabelValues = Record<string, string | number>;

/** What one report adds to a family's sample table: the `mn`, `m`, `l`, `s` and `q` of its {@link WireFamily}. */
class TableAdditions {
  readonly metricNames: string[] = [];
  private readonly m: number[] = [];
  private readonly l: string[] = [];
  private readonly s: Array<string | 0> = [];
  private readonly q: number[] = [];

  /** `key`: the labels' text in name order, where it differs from `text`. */
  add(metricIndex: number, text: string, key: string | null, quantile: boolean): void {
    const k = this.m.length;
    this.m.push(metricIndex);
    this.l.push(text);
    if (key !== null) {
      while (this.s.length < k) this.s.push(0);
      this.s.push(key);
    }
    if (quantile) this.q.push(k);
  }

  writeTo(out: WireFamily): void {
    if (this.metricNames.length > 0) out.mn = this.metricNames;
    if (this.m.length > 0) {
      out.m = this.m;
      out.l = this.l;
    }
    if (this.s.length > 0) out.s = this.s;
    if (this.q.length > 0) out.q = this.q;
  }
}

/**
 * The labels of one sample as the exposition writes them (registry default labels merged as prom-client merges
 * them), read into fields that are reused from sample to sample.
 */
class SampleLabels {
  text = '';
  inOrder = true;
  quantile = false;
  private readonly names: string[] = [];
  private readonly pieces: string[] = [];

  read(labels: LabelValues, defaults: LabelValues | null): void {
    this.text = '';
    this.inOrder = true;
    this.quantile = false;
    this.names.length = 0;
    this.pieces.length = 0;
    for (const name in labels) {
      let value = labels[name] as string | number;
      // prom-client's merge: `labels[n] || defaults[n]`, a registry default filling an empty value too.
      if (defaults !== null && Object.hasOwn(defaults, name)) value = value || (defaults[name] as string | number);
      this.add(name, value);
    }
    if (defaults !== null) {
      for (const name in defaults) if (!Object.hasOwn(labels, name)) this.add(name, defaults[name] as string | number);
    }
  }

  /** The sample's identity whatever the order its labels were given in: the labels' text in name order. */
  key(): string {
    return this.inOrder ? this.text : sortedLabelText(this.names, this.pieces);
  }

  private add(name: string, value: string | number): void {
    const piece = `${name}="${typeof value === 'string' ? escapeLabelValue(value) : value}"`;
    this.text += this.text === '' ? piece : `,${piece}`;
    if (this.names.length > 0 && name < (this.names[this.names.length - 1] as string)) this.inOrder = false;
    this.names.push(name);
    this.pieces.push(piece);
    if (name === 'quantile') this.quantile = true;
  }
}

/** The labels' text in name order. */
function sortedLabelText(names: readonly string[], pieces: readonly string[]): string {
  return names
    .map((_, i) => i)
    .sort((a, b) => ((names[a] as string) < (names[b] as string) ? -1 : 1))
    .map((i) => pieces[i])
    .join(',');
}

/** One family's sample table, as the process that reports it keeps it. */
class SampleTable {
  size = 0;
  readonly metricNames = new Map<string, number>();
  /** By metric-name index (0: none), the labels in name order -> the sample's index. */
  readonly keys: Array<Map<string, number>> = [new Map()];

  /** The table index of a sample; one new to the table enters it, and `added`. */
  index(metricName: string | undefined, labels: SampleLabels, added: TableAdditions): number {
    const m = metricName === undefined ? 0 : this.metricIndex(metricName, added);
    const key = labels.key();
    const keys = this.keys[m] as Map<string, number>;
    let index = keys.get(key);
    if (index === undefined) {
      index = this.size++;
      keys.set(key, index);
      added.add(m, labels.text, labels.inOrder ? null : key, labels.quantile && metricName === undefined);
    }
    return index;
  }

  private metricIndex(metricName: string, added: TableAdditions): number {
    let known = this.metricNames.get(metricName);
    if (known === undefined) {
      known = this.metricNames.size + 1;
      this.metricNames.set(metricName, known);
      this.keys.push(new Map());
      added.metricNames.push(metricName);
    }
    return known;
  }
}

/**
 * Reads a process's registries (prom-client's `get()` of every metric, registry default labels merged as
 * prom-client's `getMetricsAsJSON()` merges them, exemplars dropped) into {@link WireFamily}s, keeping the
 * sample tables that make the next report of the same samples a list of numbers.
 */
export class FamilyEncoder {
  private tables = new Map<string, SampleTable | StoreTable>();
  private readonly labels = new SampleLabels();

  /** Forgets every table: the next report sends each family whole. */
  reset(): void {
    this.tables = new Map();
  }

  async collect(registries: Iterable<Registry>, names: ReadonlySet<string> | null): Promise<WireFamily[]> {
    const seen = new Set<string>();
    const jobs: Array<Promise<FamilyData> | FamilyData | null> = [];
    const sources: Array<{ store: StoreSource | null; defaults: LabelValues | null; metric: CollectableMetric }> = [];
    for (const registry of registries) {
      const labels = (registry as unknown as { _defaultLabels?: LabelValues })._defaultLabels;
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

  private encode(data: FamilyData, defaults: LabelValues | null): WireFamily {
    const samples = data.values ?? [];
    const { table, restart } = this.sampleTable(data.name, samples.length);
    const out: WireFamily = { n: data.name, h: data.help, t: data.type, a: data.aggregator ?? 'sum', b: table.size, v: [] };
    if (restart) out.r = 1;
    const added = new TableAdditions();
    const values: WireNumber[] = new Array(samples.length);
    let indices: number[] | null = null;
    for (let j = 0; j < samples.length; j++) {
      const sample = samples[j] as Sample;
      const value = sample.value;
      values[j] = Number.isFinite(value) ? value : String(value);
      this.labels.read(sample.labels ?? {}, defaults);
      const index = table.index(sample.metricName, this.labels, added);
      if (indices !== null) indices.push(index);
      else if (index !== j) {
        indices = [];
        for (let p = 0; p < j; p++) indices.push(p);
        indices.push(index);
      }
    }
    added.writeTo(out);
    out.v = values;
    if (indices !== null) out.i = indices;
    return out;
  }

  /** The family's table; a table that holds many samples no longer reported (removed series) is started again. */
  private sampleTable(name: string, samples: number): { table: SampleTable; restart: boolean } {
    const table = this.tables.get(name);
    if (table instanceof SampleTable && table.size <= 2 * samples + 64) return { table, restart: false };
    const fresh = new SampleTable();
    this.tables.set(name, fresh);
    return { table: fresh, restart: true };
  }
}
