import type { Summary } from 'prom-client';
import { escapeLabelValue, labelText } from '../exposition/text-format.js';
import { type NativeConfig, NativeHistogram } from '../native/histogram.js';
import type { SeriesExemplars } from './exemplars.js';

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
  requests: { name: 'http_request_total', help: 'Total number of HTTP requests' },
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
  /** The latest exemplars, from the first request with one (`exemplars` option); see exemplars.ts. */
  exemplars: SeriesExemplars | null = null;
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

/** The names of the method, route and status labels of the default metrics; null for a dropped one. */
export interface RequestLabelNames {
  readonly method: string | null;
  readonly route: string;
  readonly status: string | null;
}

/** The label names in exposition order: method, route, status (those not dropped). */
export function requestLabelList(names: RequestLabelNames): string[] {
  const list = [names.route];
  if (names.method !== null) list.unshift(names.method);
  if (names.status !== null) list.push(names.status);
  return list;
}

/**
 * The series of the request families: at most `seriesLimit` of them with the request's own route and
 * per-request default label values; a request that would make one more is recorded in the `<overflow>` series
 * of its method and status.
 */
export class SeriesStore {
  readonly series: Series[] = [];
  /** route -> method -> status (or status + dynamic labels) -> series. */
  private readonly routes = new Map<string, Map<string, StatusMap>>();
  readonly summary: Summary<string> | null;
  constructor(
    /** The names of the method, route and status labels (method and status null when dropped). */
    readonly labelNames: RequestLabelNames,
    readonly defaultLabelNames: readonly string[],
    /** Static default labels, already formatted: `,env="prod"` or `''`. */
    private readonly staticText: string,
    private readonly staticLabels: ReadonlyArray<readonly [string, string]>,
    readonly buckets: readonly number[],
    readonly seriesLimit: number,
    summary: Summary<string> | null,
  ) {
    this.summary = summary;
    const dynamicCount = defaultLabelNames.length - staticLabels.length;
    this.overflowDynamic = dynamicCount === 0 ? null : new Array<string>(dynamicCount).fill(OVERFLOW);
    this.overflowKeySuffix = this.overflowDynamic === null ? null : `\u0000${this.overflowDynamic.join('\u0000')}`;
  }

  /** The per-request default label values of the overflow series (null when there are none). */
  private readonly overflowDynamic: string[] | null;
  /** What `observe` appends to the status to key the overflow series by its dynamic values. */
  private readonly overflowKeySuffix: string | null;

  /** The series of the last observation: consecutive requests mostly repeat it, and it spares three lookups. */
  private last: Series | null = null;

  /**
   * Records one finished request, and gives the series it was counted in. `status`: the status label's value (the
   * code itself, or as `statusFormat` made it); `dynamic`: the per-request default label values (null when none).
   */
  observe(method: string, route: string, status: number | string, seconds: number, exception: boolean, dynamic: string[] | null): Series {
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
    return series;
  }

  private lookup(method: string, route: string, status: number | string, key: number | string, dynamic: string[] | null): Series {
    let byMethod = this.routes.get(route);
    let byStatus = byMethod?.get(method);
    const found = byStatus?.get(key);
    if (found !== undefined) return found;
    if (this.series.length >= this.seriesLimit && route !== OVERFLOW) {
      // Past the limit nothing of the request's own values is kept (no map entry either): method and status
      // are bounded by HTTP, so the overflow series stay few whatever the traffic.
      const overflowKey = this.overflowKeySuffix === null ? status : `${status}${this.overflowKeySuffix}`;
      return this.lookup(method, OVERFLOW, status, overflowKey, this.overflowDynamic);
    }
    if (byMethod === undefined) {
      byMethod = new Map();
      this.routes.set(route, byMethod);
    }
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    const series = this.createSeries(method, route, status, key, dynamic);
    byStatus.set(key, series);
    return series;
  }

  private createSeries(method: string, route: string, status: number | string, key: number | string, dynamic: string[] | null): Series {
    const names = this.labelNames;
    const labels: Record<string, string> = {};
    if (names.method !== null) labels[names.method] = method;
    labels[names.route] = route;
    if (names.status !== null) labels[names.status] = String(status);
    let text = labelText(labels) + this.staticText;
    for (const [name, value] of this.staticLabels) labels[name] = value;
    if (dynamic !== null) {
      const dynamicNames = this.defaultLabelNames.slice(this.staticLabels.length);
      for (let i = 0; i < dynamicNames.length; i++) {
        const value = dynamic[i] as string;
        labels[dynamicNames[i] as string] = value;
        text += `,${dynamicNames[i]}="${escapeLabelValue(value)}"`;
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

/**
 * A store whose series also keep native histogram buckets (`nativeHistograms`). A subclass, so that without the
 * option a request runs the same code as before: no branch, no field.
 */
export class NativeSeriesStore extends SeriesStore {
  readonly natives = new Map<Series, NativeHistogram>();
  private lastSeries: Series | null = null;
  private lastNative: NativeHistogram | null = null;
  constructor(
    readonly nativeConfig: NativeConfig,
    ...args: ConstructorParameters<typeof SeriesStore>
  ) {
    super(...args);
  }

  override observe(
    method: string,
    route: string,
    status: number | string,
    seconds: number,
    exception: boolean,
    dynamic: string[] | null,
  ): Series {
    const series = super.observe(method, route, status, seconds, exception, dynamic);
    let native = this.lastNative;
    if (series !== this.lastSeries || native === null) {
      native = this.natives.get(series) ?? null;
      if (native === null) {
        native = new NativeHistogram(this.nativeConfig);
        this.natives.set(series, native);
      }
      this.lastSeries = series;
      this.lastNative = native;
    }
    native.observe(seconds);
    return series;
  }

  override reset(): void {
    super.reset();
    this.natives.clear();
    this.lastSeries = null;
    this.lastNative = null;
  }
}
