import { type Registry, Summary } from 'prom-client';
import {
  type ByteWriter,
  escapeLabelValue,
  type FamilyData,
  type FastFamily,
  familyHeader,
  kFastRender,
  labelText,
  valueString,
} from './exposition-format.js';

/** Route-label value of a request no route matched. */
export const UNMATCHED = '<unmatched>';
/** Route-label value of the series past `seriesLimit`. */
export const OVERFLOW = '<overflow>';

/**
 * The default request metrics, as data: one table, not code repeated per metric.
 * `http_request_duration_seconds`, `http_request_total` and `http_request_exceptions_total` read one shared
 * series store, so a request costs one lookup whatever the number of families.
 */
export const DEFAULT_METRICS = {
  duration: { name: 'http_request_duration_seconds', help: 'Duration of HTTP requests in seconds' },
  total: { name: 'http_request_total', help: 'Total number of HTTP requests' },
  exceptions: { name: 'http_request_exceptions_total', help: 'Total number of HTTP requests which resulted in an exception' },
  inProgress: { name: 'http_requests_in_progress', help: 'Number of HTTP requests in progress' },
  info: { name: 'exporter_info', help: 'Information about the Prometheus exporter' },
} as const;

/** One (method, route, status, default labels) combination. */
export class Series {
  /** Non-cumulative count per bucket; observations above the last bound are only in `count`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  exceptions = 0;
  constructor(
    /** Label values in exposition order, for `get()`. */
    readonly labels: Record<string, string>,
    /** The labels, formatted and escaped once: `method="GET",path="/x",status="200"`. */
    readonly text: string,
    bucketCount: number,
    /** What `SeriesStore.observe` looks the series up by. */
    readonly route: string,
    readonly method: string,
    readonly key: number | string,
  ) {
    this.counts = new Float64Array(bucketCount);
    this.textBytes = Buffer.from(`${text}} `);
  }
  /** `text` followed by `} `, as UTF-8: what every sample line of the series repeats. */
  readonly textBytes: Buffer;
}

type StatusMap = Map<number | string, Series>;

/** The series of the request families, bounded by `seriesLimit` distinct route values. */
export class SeriesStore {
  readonly series: Series[] = [];
  /** route -> method -> status (or status + dynamic labels) -> series. */
  private readonly routes = new Map<string, Map<string, StatusMap>>();
  readonly summary: Summary<string> | null;
  constructor(
    readonly routeLabelName: string,
    readonly defaultLabelNames: readonly string[],
    /** Static default labels, already formatted: `,env="prod"` or `''`. */
    private readonly staticText: string,
    private readonly staticLabels: ReadonlyArray<readonly [string, string]>,
    readonly buckets: readonly number[],
    readonly seriesLimit: number,
    summary: Summary<string> | null,
  ) {
    this.summary = summary;
  }

  /** Identity of the layout: a second instance may share this store only if it matches. */
  get signature(): string {
    return JSON.stringify([this.routeLabelName, this.defaultLabelNames, this.buckets, this.summary !== null]);
  }

  /** The series of the last observation: consecutive requests mostly repeat it, and it spares three lookups. */
  private last: Series | null = null;

  /** Records one finished request. `dynamic` holds the per-request default label values (null when none). */
  observe(method: string, route: string, status: number, seconds: number, exception: boolean, dynamic: string[] | null): void {
    const key = dynamic === null ? status : `${status}\u0000${dynamic.join('\u0000')}`;
    let series = this.last;
    if (series === null || series.key !== key || series.route !== route || series.method !== method) {
      series = this.lookup(method, route, status, key, dynamic);
      this.last = series;
    }
    series.count++;
    series.sum += seconds;
    if (exception) series.exceptions++;
    const buckets = this.buckets;
    for (let i = 0; i < buckets.length; i++) {
      if (seconds <= (buckets[i] as number)) {
        (series.counts[i] as number)++;
        break;
      }
    }
    this.summary?.observe(series.labels, seconds);
  }

  private lookup(method: string, route: string, status: number, key: number | string, dynamic: string[] | null): Series {
    let byMethod = this.routes.get(route);
    if (byMethod === undefined) {
      if (this.routes.size >= this.seriesLimit) {
        route = OVERFLOW;
        byMethod = this.routes.get(OVERFLOW);
      }
      if (byMethod === undefined) {
        byMethod = new Map();
        this.routes.set(route, byMethod);
      }
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let series = byStatus.get(key);
    if (series === undefined) {
      series = this.createSeries(method, route, status, key, dynamic);
      byStatus.set(key, series);
    }
    return series;
  }

  private createSeries(method: string, route: string, status: number, key: number | string, dynamic: string[] | null): Series {
    const labels: Record<string, string> = { method, [this.routeLabelName]: route, status: String(status) };
    let text = `method="${escapeLabelValue(method)}",${this.routeLabelName}="${escapeLabelValue(route)}",status="${status}"${this.staticText}`;
    for (const [name, value] of this.staticLabels) labels[name] = value;
    if (dynamic !== null) {
      const names = this.defaultLabelNames.slice(this.staticLabels.length);
      for (let i = 0; i < names.length; i++) {
        const value = dynamic[i] as string;
        labels[names[i] as string] = value;
        text += `,${names[i]}="${escapeLabelValue(value)}"`;
      }
    }
    const series = new Series(labels, text, this.buckets.length, route, method, key);
    this.series.push(series);
    return series;
  }

  /** Number of distinct route-label values. */
  get routeCount(): number {
    return this.routes.size;
  }

  reset(): void {
    this.series.length = 0;
    this.routes.clear();
    this.last = null;
    this.summary?.reset();
  }
}

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
    return ['method', this.store.routeLabelName, 'status', ...this.store.defaultLabelNames];
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
      let acc = 0;
      for (let i = 0; i < buckets.length; i++) {
        acc += s.counts[i] as number;
        values.push({ labels: { le: buckets[i] as number }, sharedLabels: s.labels, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket` });
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
      let acc = 0;
      for (let i = 0; i < bucket.length; i++) {
        acc += s.counts[i] as number;
        w.bytes(bucket[i] as Buffer);
        w.bytes(text);
        w.value(acc);
      }
      w.bytes(inf);
      w.bytes(text);
      w.value(s.count);
      w.bytes(sum);
      w.bytes(text);
      w.value(s.sum);
      w.bytes(count);
      w.bytes(text);
      w.value(s.count);
    }
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
      values.push({ labels: { ...s.labels }, value });
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
    private readonly staticLabels: ReadonlyArray<readonly [string, string]>,
  ) {}

  get labelNames(): string[] {
    return ['method', ...this.staticLabels.map(([name]) => name)];
  }

  /** The cell of the last lookup: consecutive requests mostly share their method. */
  private last: ProgressCell | null = null;
  private lastMethod = '';

  /** The cell of `method`, created on first use (HTTP methods are a small fixed set). */
  cell(method: string): ProgressCell {
    if (method === this.lastMethod && this.last !== null) return this.last;
    let cell = this.cells.get(method);
    if (cell === undefined) {
      const labels: Record<string, string> = { method };
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

  reset(): void {
    for (const c of this.cells.values()) c.value = 0;
  }
}

/** The families of the request metrics, registered (or found) in one registry. */
export interface RequestFamilies {
  store: SeriesStore;
  inProgress: InProgressGauge;
}

const kStore = Symbol.for('prom-http.store');

/**
 * Registers the default request families in `registry`, or reuses those a previous instance registered there
 * with the same layout. Any other metric already holding one of the names is a clash.
 */
export function registerRequestFamilies(
  registry: Registry,
  namePrefix: string,
  routeLabelName: string,
  staticLabels: ReadonlyArray<readonly [string, string]>,
  dynamicLabelNames: readonly string[],
  buckets: readonly number[],
  latencyAsHistogram: boolean,
  seriesLimit: number,
): RequestFamilies {
  const names = {
    duration: namePrefix + DEFAULT_METRICS.duration.name,
    total: namePrefix + DEFAULT_METRICS.total.name,
    exceptions: namePrefix + DEFAULT_METRICS.exceptions.name,
    inProgress: namePrefix + DEFAULT_METRICS.inProgress.name,
  };
  const defaultLabelNames = [...staticLabels.map(([n]) => n), ...dynamicLabelNames];
  const staticText = staticLabels.map(([n, v]) => `,${n}="${escapeLabelValue(v)}"`).join('');

  const existing = registry.getSingleMetric(names.total) as unknown as (RequestCounter & { [kStore]?: true }) | undefined;
  const existingGauge = registry.getSingleMetric(names.inProgress) as unknown as InProgressGauge | undefined;
  if (existing !== undefined) {
    const wanted = JSON.stringify([routeLabelName, defaultLabelNames, buckets, !latencyAsHistogram]);
    if (!(existing instanceof RequestCounter) || existing.store.signature !== wanted || !(existingGauge instanceof InProgressGauge)) {
      throw new TypeError(
        `prom-http: metric "${names.total}" is already registered with other labels or type; use another "prefix" or "registry"`,
      );
    }
    return { store: existing.store, inProgress: existingGauge };
  }
  for (const name of Object.values(names)) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new TypeError(`prom-http: metric "${name}" is already registered; use another "prefix" or "registry"`);
    }
  }

  const summary = latencyAsHistogram
    ? null
    : new Summary({
        name: names.duration,
        help: DEFAULT_METRICS.duration.help,
        labelNames: ['method', routeLabelName, 'status', ...defaultLabelNames],
        registers: [registry],
      });
  const store = new SeriesStore(routeLabelName, defaultLabelNames, staticText, staticLabels, buckets, seriesLimit, summary);
  if (latencyAsHistogram) registry.registerMetric(new DurationHistogram(names.duration, DEFAULT_METRICS.duration.help, store) as never);
  registry.registerMetric(new RequestCounter(names.total, DEFAULT_METRICS.total.help, store, false) as never);
  registry.registerMetric(new RequestCounter(names.exceptions, DEFAULT_METRICS.exceptions.help, store, true) as never);
  const inProgress = new InProgressGauge(names.inProgress, DEFAULT_METRICS.inProgress.help, staticLabels);
  registry.registerMetric(inProgress as never);
  return { store, inProgress };
}
