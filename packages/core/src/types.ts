// Every public type of the packages in one file, over 400 lines for that reason: the options and their TSDoc are
// what users read (and what the API reports list), and one file keeps each name next to the ones it refers to.
import type { IncomingMessage, Server } from 'node:http';

/**
 * What a label function may return: numbers become strings, `null`/`undefined` become `""`, an array (Express 5
 * types a route parameter as `string | string[]`) its elements joined with `,`.
 */
export type LabelValue = string | number | boolean | bigint | readonly string[] | null | undefined;

/** The labels of one series, as the client's metrics take them. */
export type LabelValues = Partial<Record<string, string | number>>;

/**
 * The part of a client's `Registry` (prom-client's or `@prometheus-io/client`'s, the same API) that prom-http's
 * declarations name. Structural, so that they compile with either package installed, or both.
 */
export interface RegistryLike {
  /** The exposition of every metric, in the registry's format. */
  metrics(): Promise<string>;
  readonly contentType: string;
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  getSingleMetricAsString(name: string): Promise<string>;
  removeSingleMetric(name: string): void;
  getMetricsAsJSON(): Promise<unknown[]>;
  setDefaultLabels(labels: object): void;
  resetMetrics(): void;
  clear(): void;
}

/** The part of a client's `Gauge` that prom-http's declarations name (see {@link RegistryLike}). */
export interface GaugeLike {
  set(value: number): void;
  set(labels: LabelValues, value: number): void;
  inc(value?: number): void;
  inc(labels: LabelValues, value?: number): void;
  dec(value?: number): void;
  dec(labels: LabelValues, value?: number): void;
  remove(labels: LabelValues): void;
  reset(): void;
}

/** A metric of the client (Counter, Gauge, Histogram or Summary); see {@link RegistryLike}. */
export interface MetricLike {
  reset(): void;
}

/**
 * A client module: `prom-client` or `@prometheus-io/client` (`import * as client from '@prometheus-io/client'`,
 * or its default import).
 */
export interface PromClientLike {
  Registry: new (...args: never[]) => RegistryLike;
  Counter: new (config: never) => MetricLike;
  Gauge: new (config: never) => GaugeLike;
  Histogram: new (config: never) => MetricLike;
  Summary: new (config: never) => MetricLike;
  register: RegistryLike;
  collectDefaultMetrics(config?: never): void;
}

/** A label value computed per request from the framework's request and response objects. */
export type LabelFunction<Req, Res> = (req: Req, res: Res) => LabelValue;

/** A label given as a static value or as a per-request function. */
export type LabelSource<Req, Res> = LabelValue | LabelFunction<Req, Res>;

/**
 * Reads the exemplar labels of a request for a tracer other than OpenTelemetry, once its response is done (with
 * the same `req` and `res` as label functions): e.g. `{ trace_id, span_id }`, or `undefined` for no exemplar.
 * Label names and values together may have at most 128 characters (OpenMetrics); longer ones are dropped.
 */
export type ExemplarFunction<Req, Res> = (req: Req, res: Res) => Readonly<Record<string, string>> | null | undefined;

/** A named function deriving the route label from the request; its name becomes the label name. */
export type GroupByFunction<Req> = (req: Req) => string;

/** What the route label of the default metrics holds. */
export type GroupBy<Req> = 'path' | 'endpoint' | 'url' | GroupByFunction<Req>;

/** A path exclusion: a regular expression source (anchored at the start) or a RegExp. */
export type PathPattern = string | RegExp;

/**
 * Options shared by the Express middleware and the Fastify plugin.
 *
 * `Req`/`Res` are the framework's request and response types (Fastify: `FastifyRequest`/`FastifyReply`).
 */
export interface MetricsOptions<Req = unknown, Res = unknown> {
  /**
   * Route on the app that serves the exposition; `null` serves none (use `startHttpServer` or `registerEndpoint`).
   * @defaultValue `'/metrics'`
   */
  path?: string | null;
  /**
   * Record the default HTTP metrics. `false` records none until `exportDefaults(options)` is called on the instance
   * (as prometheus_flask_exporter's `export_defaults()`).
   * @defaultValue `true`
   */
  exportDefaults?: boolean;
  /**
   * Prefix of the default metric names, joined with `_` (`'express'` gives `express_http_request_total`); not applied
   * to the names given in `metricNames`.
   * @defaultValue `''`
   */
  prefix?: string;
  /**
   * What the route label holds: the registered template (`'path'`), the handler's name (`'endpoint'`),
   * the raw path (`'url'`, bounded by `seriesLimit` only), or a named function of the request.
   * @defaultValue `'path'`
   */
  groupBy?: GroupBy<Req>;
  /**
   * Buckets of the duration histogram, in seconds, strictly ascending.
   * @defaultValue `[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]`
   */
  buckets?: readonly number[];
  /**
   * `false` records the request duration as a Summary instead of a Histogram.
   * @defaultValue `true`
   */
  latencyAsHistogram?: boolean;
  /**
   * Labels added to every default and custom metric: a static value or `(req, res) => value`.
   * Only the static ones are added to `http_requests_in_progress`.
   * @defaultValue `{}`
   */
  defaultLabels?: Record<string, LabelSource<Req, Res>>;
  /**
   * Paths not recorded: regular expression sources (anchored at the start) or RegExps, tested against the
   * request path without its query string.
   * @defaultValue none
   */
  excludedPaths?: PathPattern | readonly PathPattern[];
  /**
   * Excluded paths also skip `registerDefault` and custom metrics.
   * @defaultValue `true`
   */
  excludeUserDefaults?: boolean;
  /**
   * Where every metric is registered. A second instance on the same registry reuses the metrics.
   * @defaultValue the global `register` of the client in use (see `promClient`)
   */
  registry?: RegistryLike;
  /**
   * The client module every metric is made with: `prom-client` or `@prometheus-io/client`. Needed only when
   * both packages are installed, to pick the one whose global registry the app's own metrics are on.
   * @defaultValue the module whose `Registry` made `registry`; else `@prometheus-io/client` if installed; else `prom-client`
   */
  promClient?: PromClientLike;
  /**
   * Collect the client's process and Node.js metrics (`process_cpu_seconds_total`, ...) into `registry`; an object
   * passes the client's `collectDefaultMetrics` options (`prefix`, `labels`, `gcDurationBuckets`,
   * `eventLoopMonitoringPrecision`).
   * @defaultValue `true`
   */
  collectDefaultMetrics?: boolean | DefaultMetricsCollection;
  /**
   * Decides whether a scrape may read the metrics; `false` (or a throw) answers 401 with no metrics.
   *
   * A scrape of the app's own metrics route passes the framework's request (Express `Request`, Fastify
   * `FastifyRequest`); a scrape of the server of `startHttpServer` passes Node's `IncomingMessage`, as that
   * server has no framework. Read what both have, e.g. `req.headers.authorization`.
   * @defaultValue none (every scrape is allowed)
   */
  authorize?: (req: Req | IncomingMessage) => boolean | Promise<boolean>;
  /**
   * Most series of each default metric. A request whose labels would make one more is recorded with its route
   * label and per-request default labels set to `<overflow>` (method, status and static default labels kept), so
   * past the limit only one series per method and status is added. Also the default of custom metrics.
   * @defaultValue `10000`
   */
  seriesLimit?: number;
  /**
   * Asked once the response has finished: `true` leaves the request out of the default metrics (custom ones still
   * run). A `skip` that throws records the request and warns once (`PROMHTTP_SKIP_THREW`).
   * @defaultValue none (every request is recorded)
   */
  skip?: (req: Req, res: Res) => boolean;
  /**
   * HTTP methods (any case) the default metrics do not record, e.g. `['OPTIONS', 'HEAD']`; custom ones still run.
   * @defaultValue `[]`
   */
  excludedMethods?: readonly string[];
  /**
   * The status label's value: `'code'` gives `"200"`, `'class'` gives `"2xx"`, a function its result.
   * @defaultValue `'code'`
   */
  statusFormat?: 'code' | 'class' | ((status: number, req: Req, res: Res) => string | number);
  /**
   * Names of the default labels: `{ method: 'verb', status: 'code', route: 'handler' }`. `false` drops the method
   * or status label (the route label's name otherwise comes from `groupBy`).
   * @defaultValue `{}` (`method`, `status`, and the `groupBy` name)
   */
  labelNames?: DefaultLabelNames;
  /**
   * Full names of the default metrics, used as given (`prefix` does not apply to them):
   * `{ requests: 'http_requests_total' }`.
   * @defaultValue `{}` (the names in the README's metrics table)
   */
  metricNames?: DefaultMetricTexts;
  /**
   * Help texts of the default metrics, by the same keys as `metricNames`.
   * @defaultValue `{}` (the texts in the README's metrics table)
   */
  help?: DefaultMetricTexts;
  /** With `latencyAsHistogram: false`: the summary's quantiles, each in (0, 1]. @defaultValue prom-client's (`[0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999]`) */
  percentiles?: readonly number[];
  /** With `latencyAsHistogram: false`: the summary's sliding window, in seconds. @defaultValue none (no window) */
  maxAgeSeconds?: number;
  /** With `latencyAsHistogram: false`: buckets of the sliding window (needs `maxAgeSeconds`). @defaultValue none */
  ageBuckets?: number;
  /** With `latencyAsHistogram: false`: drop idle series' window buckets. @defaultValue `false` */
  pruneAgedBuckets?: boolean;
  /**
   * `[pattern, replacement]` pairs applied in order to the route label's value with `String.prototype.replace`: a
   * string pattern is a regular expression source (first match only, as `new RegExp(pattern)`); a RegExp with the
   * `g` flag replaces every match. With `groupBy: 'url'`: `[[/\/\d+/g, '/#val']]`.
   * @defaultValue none
   */
  normalizePath?: ReadonlyArray<readonly [PathPattern, string]>;
  /**
   * The route label of a request no route matched (404s, requests refused before routing).
   * @defaultValue `'<unmatched>'`
   */
  unmatchedLabel?: string;
  /**
   * In a `node:cluster` worker: the metrics endpoint answers with the sum over all workers.
   * Needs `setupClusterPrimary()` in the primary.
   * @defaultValue `false`
   */
  cluster?: boolean;
  /**
   * Attach an exemplar to `http_request_total` and to the bucket of `http_request_duration_seconds` each request
   * falls in (the latest one per series and bucket). `true` takes `{ trace_id, span_id }` from the OpenTelemetry
   * span active when the request reached the middleware or plugin, when that trace is sampled (needs the optional
   * peer `@opentelemetry/api`); a function reads them from the request (see {@link ExemplarFunction}). Exemplars are
   * served in OpenMetrics text and in the protobuf exposition (Prometheus asks for one of them; it keeps them with
   * `--enable-feature=exemplar-storage`), never in the 0.0.4 text format.
   * @defaultValue `false`
   */
  exemplars?: boolean | ExemplarFunction<Req, Res>;
  /**
   * Keep Prometheus native (sparse exponential) buckets in the duration histogram too, beside its classic
   * `buckets`. They are served in the protobuf exposition only, to a scrape that asks for it (Prometheus with
   * native histograms on); the text formats stay classic. `true` takes the default settings; the object also
   * sets the default of custom histograms' `native: true`. No effect with `latencyAsHistogram: false`.
   * @defaultValue `false`
   */
  nativeHistograms?: boolean | NativeHistogramOptions;
}

/** Settings of native histogram buckets (as client_golang's `NativeHistogram*` options). */
export interface NativeHistogramOptions {
  /**
   * Most growth from one bucket bound to the next: the finest resolution (schema -4 to 8) whose factor
   * `2^(2^-schema)` does not exceed it is used (1.1 gives schema 3, 8 buckets per power of two).
   * @defaultValue `1.1`
   */
  bucketFactor?: number;
  /**
   * Most populated buckets of a series; one more halves the resolution (merging bucket pairs).
   * @defaultValue `160`
   */
  maxBuckets?: number;
  /**
   * Observations within this distance of 0 are counted in the zero bucket.
   * @defaultValue `2^-128` (client_golang's default)
   */
  zeroThreshold?: number;
}

/** Names of the default labels (option `labelNames`). */
export interface DefaultLabelNames {
  /** @defaultValue `'method'` */
  method?: string | false;
  /** @defaultValue `'status'` */
  status?: string | false;
  /** @defaultValue the `groupBy` name (`'path'`, `'endpoint'`, `'url'` or the function's name) */
  route?: string;
}

/** A text per default metric (options `metricNames` and `help`). */
export interface DefaultMetricTexts {
  /** `http_request_duration_seconds` @defaultValue see the README */
  duration?: string;
  /** `http_request_total` @defaultValue see the README */
  requests?: string;
  /** `http_request_exceptions_total` @defaultValue see the README */
  exceptions?: string;
  /** `http_requests_in_progress` @defaultValue see the README */
  inProgress?: string;
  /** `exporter_info` @defaultValue see the README */
  info?: string;
}

/** The client's `collectDefaultMetrics` options that `collectDefaultMetrics` passes on. */
export interface DefaultMetricsCollection {
  /** Prefix of the process metric names. @defaultValue `''` */
  prefix?: string;
  /** Labels added to every process metric. @defaultValue `{}` */
  labels?: Record<string, string | number>;
  /** Buckets of `nodejs_gc_duration_seconds`. @defaultValue the client's */
  gcDurationBuckets?: readonly number[];
  /** Event-loop lag sampling, in milliseconds. @defaultValue the client's (10) */
  eventLoopMonitoringPrecision?: number;
}

/**
 * The options that shape only the default metrics: what `exportDefaults(options)` takes after
 * `exportDefaults: false`.
 */
export type DefaultMetricsOptions<Req = unknown, Res = unknown> = Pick<
  MetricsOptions<Req, Res>,
  | 'prefix'
  | 'groupBy'
  | 'buckets'
  | 'latencyAsHistogram'
  | 'skip'
  | 'excludedMethods'
  | 'statusFormat'
  | 'labelNames'
  | 'metricNames'
  | 'help'
  | 'percentiles'
  | 'maxAgeSeconds'
  | 'ageBuckets'
  | 'pruneAgedBuckets'
  | 'normalizePath'
  | 'unmatchedLabel'
  | 'exemplars'
>;

/** The series `info()` returns: the info metric with its labels. */
export interface InfoSeries {
  set(value: number): void;
  inc(value?: number): void;
  dec(value?: number): void;
}

/** Options of a custom metric wrapper; the prom-client settings of the metric type pass through. */
export interface CustomMetricOptions<Req = unknown, Res = unknown> {
  /** Per label name, a static value or a function `(req, res) => value`. @defaultValue `{}` */
  labels?: Record<string, LabelSource<Req, Res>>;
  /**
   * With no labels or only static ones, export the series at 0 from creation.
   * @defaultValue `true`
   */
  initialValueWhenOnlyStaticLabels?: boolean;
  /**
   * Most series of the metric: a request whose label values would make one more is recorded with its per-request
   * label values set to `<overflow>` (static ones kept). Wrappers sharing a metric share its series; the first
   * one sets the limit.
   * @defaultValue the instance's `seriesLimit`
   */
  seriesLimit?: number;
  /**
   * Counters and histograms: attach an exemplar to each observation, as the instance's `exemplars` option does
   * (`true`: the OpenTelemetry span active when the request entered the wrapper). The metric is made with the
   * client's `enableExemplars`; one the app registered under the same name must have it too. Exemplars show in
   * OpenMetrics scrapes of prom-http's endpoint whatever the registry's content type (the client's own
   * `registry.metrics()` shows them only for a registry of OpenMetrics content type).
   * @defaultValue `false`
   */
  exemplars?: boolean | ExemplarFunction<Req, Res>;
  /** Histogram buckets (seconds). @defaultValue prom-client's default buckets */
  buckets?: number[];
  /**
   * Histograms only: also keep native buckets, served in the protobuf exposition; `true` takes the instance's
   * `nativeHistograms` settings (or the defaults).
   * @defaultValue `false`
   */
  native?: boolean | NativeHistogramOptions;
  /** Summary percentiles. @defaultValue prom-client's default percentiles */
  percentiles?: number[];
  /** Summary sliding window length in seconds. @defaultValue none */
  maxAgeSeconds?: number;
  /** Summary sliding window bucket count. @defaultValue none */
  ageBuckets?: number;
  /** Summary t-digest compression. @defaultValue prom-client's */
  compressCount?: number;
  /** Summary pruning of idle series. @defaultValue prom-client's */
  pruneAgedBuckets?: boolean;
}

/** Options of `generateMetrics`. */
export interface GenerateOptions {
  /** The scrape's `Accept` header: `application/openmetrics-text` selects OpenMetrics. */
  accept?: string | undefined;
  /**
   * Only these metric families, or only these samples of a family: `http_request_duration_seconds_bucket` gives
   * that histogram's bucket lines (as `name[]` of a scrape).
   */
  names?: readonly string[] | undefined;
}

/** A rendered exposition. */
export interface Exposition {
  /** The `Content-Type` of `body`: Prometheus text 0.0.4 or OpenMetrics 1.0.0. */
  contentType: string;
  /** The metrics in that format. */
  body: string;
}

/** Options of `startHttpServer`. */
export interface HttpServerOptions {
  /**
   * Interface the server listens on.
   * @defaultValue `'0.0.0.0'`
   */
  host?: string;
  /**
   * Path that answers with the metrics.
   * @defaultValue `'/metrics'`
   */
  endpoint?: string;
}

// --- multi-process and batch jobs ------------------------------------------------------------------

/** Options of `setupClusterPrimary`. */
export interface ClusterPrimaryOptions {
  /**
   * Also serve the cluster-wide sum from the primary on this port (as Gunicorn's master does); `0` picks a free
   * port (read it from `server.address()`).
   * @defaultValue none (workers serve the sum on the app's own port)
   */
  port?: number;
  /**
   * Interface of the primary's metrics server.
   * @defaultValue `'0.0.0.0'`
   */
  host?: string;
  /**
   * Path of the primary's metrics server.
   * @defaultValue `'/metrics'`
   */
  endpoint?: string;
  /**
   * Milliseconds a scrape waits for the workers' metrics. A worker that has not answered by then is left out of
   * that scrape (its counters and histograms count with their last known values), and the scrape succeeds.
   * @defaultValue `1000`
   */
  timeout?: number;
  /**
   * The primary's own registry, added to the sum.
   * @defaultValue the global `register` of the client in use (`@prometheus-io/client` if installed, else `prom-client`)
   */
  registry?: RegistryLike;
}

/** The running primary side of the cluster aggregation. */
export interface ClusterPrimary {
  /** The primary's metrics server (with `port`), else null. */
  readonly server: Server | null;
  /** The cluster-wide exposition, as a scrape of any worker gets it. */
  generateMetrics(options?: GenerateOptions): Promise<Exposition>;
  /** Stops answering the workers and closes the metrics server. */
  close(): Promise<void>;
}

/** Options of `deleteFromGateway`; `pushToGateway` takes these and more. */
export interface DeleteFromGatewayOptions {
  /** The `job` label of the group: a non-empty string. */
  job: string;
  /**
   * The other labels of the group (`{ instance: 'host-1' }`): valid label names other than `job`.
   * @defaultValue `{}`
   */
  groupings?: Record<string, string | number>;
  /**
   * Milliseconds to wait for the Pushgateway's answer.
   * @defaultValue `10000`
   */
  timeout?: number;
  /**
   * Extra request headers, e.g. `{ authorization: 'Basic ...' }` for a gateway behind authentication.
   * @defaultValue `{}`
   */
  headers?: Record<string, string>;
}

/** Options of `pushToGateway`. */
export interface PushToGatewayOptions extends DeleteFromGatewayOptions {
  /**
   * The registry whose metrics are pushed: in the Prometheus text format, or in the protobuf format when a
   * histogram of it keeps native buckets (`nativeHistograms`, `native: true`), which only that format carries.
   * @defaultValue the global `register` of the client in use (`@prometheus-io/client` if installed, else `prom-client`)
   */
  registry?: RegistryLike;
  /**
   * `'PUT'` replaces every metric of the group (Python's `push_to_gateway`); `'POST'` replaces only the metrics
   * with the names pushed (`pushadd_to_gateway`).
   * @defaultValue `'PUT'`
   */
  method?: 'PUT' | 'POST';
}
