import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Counter, Gauge, Registry } from 'prom-client';
import type { Client } from './client.js';
import { clusterRenderer } from './cluster/worker.js';
import { type CustomKind, CustomMetric, reuseOrCreate } from './custom/custom-metric.js';
import { WARNING_TYPE, warnOnce } from './diagnostics.js';
import {
  answerScrape,
  asExposition,
  type RenderedExposition,
  renderExposition,
  type ScrapeRequest,
  type ScrapeResponse,
  UNAUTHORIZED,
} from './exposition/exposition.js';
import { startHttpServer } from './exposition/metrics-server.js';
import { withSampleNames } from './exposition/sample-names.js';
import { LabelValueError, labelString } from './label-values.js';
import { type ResolvedOptions, resolveLaterDefaults, resolveOptions } from './options.js';
import { type ExemplarLabels, RequestExemplars, TracedRecord } from './request/exemplars.js';
import { type InProgressGauge, type ProgressCell, registerRequestFamilies } from './request/families.js';
import { routeLabelOf, statusLabelOf } from './request/labels.js';
import { type EnteredWrapper, isClientError, RequestRecord } from './request/record.js';
import { openOn, watchedOf } from './request/response-watch.js';
import type { SeriesStore } from './request/series-store.js';
import type {
  CustomMetricOptions,
  DefaultMetricsOptions,
  Exposition,
  GenerateOptions,
  HttpServerOptions,
  InfoSeries,
  LabelValue,
  MetricsOptions,
  PromClientLike,
  RegistryLike,
} from './types.js';
import { VERSION } from './version.js';

/** How an adapter reads the route of a request once its response has finished. */
export interface RouteReader<Req, Res> {
  /** The route template as registered, with mount prefixes; undefined when no route matched. */
  template(req: Req, res: Res): string | undefined;
  /** The route handler's function name (the template when anonymous); undefined when no route matched. */
  endpoint(req: Req, res: Res): string | undefined;
  /** The request path without query string. */
  url(req: Req, res: Res): string;
}

/**
 * The framework-free engine behind both adapters: resolved options, the default metrics, the request
 * lifecycle (start -> finish), custom metric wrappers and the exposition.
 */
export class PromHttp<Req, Res> {
  /** The resolved options; replaced once by `exportDefaults(options)`. */
  options: ResolvedOptions<Req, Res>;
  readonly registry: RegistryLike;
  /** The client module every metric is made with: prom-client or @prometheus-io/client. */
  readonly client: PromClientLike;
  private store: SeriesStore | null = null;
  private inProgress: InProgressGauge | null = null;
  /** Set with the default metrics (`setupDefaults`); read only while they are on. */
  private routeLabel!: (req: Req, res: Res) => string;
  /** The status label's value when it is not the status code itself; null for the code. */
  private statusLabel: ((status: number, req: Req, res: Res) => number | string) | null = null;
  private readonly labelErrors: Counter<'metric'>;
  private readonly warned = new Set<string>();
  private readonly defaultWrappers: Array<CustomMetric<Req, Res>> = [];
  private readonly renderer: (options: GenerateOptions) => Promise<RenderedExposition>;
  /** The exemplars of the default families; null when `exemplars` is off, which then costs nothing per request. */
  private exemplars: RequestExemplars<Req, Res> | null = null;
  /** Reads the active span's exemplar when a request starts (`exemplars: true`), else null. */
  private exemplarAtStart: (() => ExemplarLabels | null) | null = null;

  /**
   * `adapterOptions`: the options the adapter reads itself (Fastify's `endpointOptions`), which core lets
   * through.
   */
  constructor(
    private readonly given: MetricsOptions<Req, Res> | undefined,
    private readonly routes: RouteReader<Req, Res>,
    private readonly adapterOptions: readonly string[] = [],
  ) {
    const o = resolveOptions(given, adapterOptions);
    this.options = o;
    this.registry = o.registry;
    this.client = o.client;
    const registry = o.registry as unknown as Registry;
    if (o.exportDefaults) this.setupDefaults(o);
    const { Counter } = o.client as Client;
    this.labelErrors = reuseOrCreate(registry, 'exporter_label_errors_total', { type: 'counter', labels: ['metric'] }, () => {
      return new Counter({
        name: 'exporter_label_errors_total',
        help: 'Observations dropped because a label function threw or gave no label value',
        labelNames: ['metric'],
        registers: [registry],
      });
    });
    // Asking the registry, not remembering the registries already served: after `registry.clear()` a new
    // instance brings the process metrics back.
    const collection = o.collectDefaultMetrics;
    if (collection !== null && registry.getSingleMetric(`${collection.prefix ?? ''}process_cpu_seconds_total`) === undefined) {
      (o.client as Client).collectDefaultMetrics({ ...collection, register: registry });
    }
    this.renderer = withSampleNames(o.cluster ? clusterRenderer(registry) : (opts) => renderExposition(registry, opts));
  }

  /**
   * Turns the default metrics on for an instance created with `exportDefaults: false`, with these default-metric
   * options over the instance's. Throws when they are on already, or when an option is bad.
   */
  exportDefaults(options?: DefaultMetricsOptions<Req, Res>): void {
    if (this.store !== null) {
      throw new TypeError(
        'prom-http: exportDefaults() turns on the default metrics of an instance created with exportDefaults: false; they are on already',
      );
    }
    const o = resolveLaterDefaults(this.given, options, this.adapterOptions);
    this.setupDefaults(o);
    this.options = o;
  }

  /** Registers the default metrics (or finds them in the registry) and prepares their labels. */
  private setupDefaults(o: ResolvedOptions<Req, Res>): void {
    const client = o.client as Client;
    const registry = o.registry as unknown as Registry;
    const families = registerRequestFamilies(registry, {
      names: o.names,
      help: o.help,
      labelNames: { method: o.methodLabelName, route: o.routeLabelName, status: o.statusLabelName },
      statusFormat: typeof o.statusFormat === 'function' ? 'function' : o.statusFormat,
      staticLabels: o.staticLabels,
      dynamicLabelNames: o.dynamicLabels.map(([n]) => n),
      buckets: o.buckets,
      latencyAsHistogram: o.latencyAsHistogram,
      summary: o.summary,
      seriesLimit: o.seriesLimit,
      Summary: client.Summary,
      native: o.nativeHistograms,
    });
    const infoLabels = ['version', ...o.staticLabels.map(([n]) => n)];
    const info = reuseOrCreate(registry, o.names.info, { type: 'gauge', labels: infoLabels }, () => {
      return new client.Gauge({ name: o.names.info, help: o.help.info, labelNames: infoLabels, registers: [registry], aggregator: 'max' });
    });
    info.set({ version: VERSION, ...Object.fromEntries(o.staticLabels) }, 1);
    this.routeLabel = routeLabelOf(o, this.routes);
    this.statusLabel = statusLabelOf(o);
    this.store = families.store;
    this.inProgress = families.inProgress;
    if (o.exemplars !== null) {
      this.exemplars = new RequestExemplars(o.exemplars, o.latencyAsHistogram ? o.buckets : null);
      this.exemplarAtStart = o.exemplars.atStart;
    }
  }

  // --- request lifecycle ---------------------------------------------------------------------------

  /**
   * Starts recording the request that `raw` (the Node response) answers, once per registry: returns the record
   * this engine, or another one on the same registry, already keeps for it, else a new one, finished when the response is done (with the status
   * sent, or 499 when the client went away first; see request/response-watch.ts for how, without a listener per
   * request). Null when nothing at all is recorded for it (an excluded path while `excludeUserDefaults`).
   * `socket`: the request's socket (`req.socket` of Node's request), which spares a lookup. `start`: when the
   * request arrived (`performance.now()`), for a record started after that; now when not given.
   */
  track(
    req: Req,
    res: Res,
    raw: ServerResponse,
    method: string,
    path: string | undefined,
    socket?: Socket | null,
    start?: number,
  ): RequestRecord | null {
    const open = openOn(raw, socket);
    for (let i = 0; i < open.length; i++) {
      const watched = open[i] as RequestRecord;
      // Engines on one registry record into the same metrics: the first one the request meets records it.
      if (watched.raw === raw && (watched.owner as { registry?: unknown } | null)?.registry === this.registry) {
        // A tracer that starts its span in a framework hook (@fastify/otel) had none active when the request arrived.
        if (this.exemplarAtStart !== null && watched instanceof TracedRecord && watched.exemplar === null) {
          watched.exemplar = this.exemplarAtStart();
        }
        return watched;
      }
    }
    let defaults = this.inProgress !== null;
    if (path !== undefined && this.options.isExcluded?.(path) === true) {
      if (this.options.excludeUserDefaults) return null;
      defaults = false;
    }
    const excludedMethods = this.options.excludedMethods;
    if (excludedMethods !== null && (excludedMethods.has(method) || excludedMethods.has(method.toUpperCase()))) defaults = false;
    // The method label's value, for the in-progress cell and the series: one value for every method when dropped.
    const methodLabel = this.options.methodLabelName === null ? '' : method;
    let cell: ProgressCell | null = null;
    if (defaults) {
      cell = (this.inProgress as InProgressGauge).cell(methodLabel);
      cell.value++;
    }
    const now = start ?? performance.now();
    const atStart = this.exemplarAtStart;
    const record =
      atStart === null
        ? new RequestRecord(now, methodLabel, cell, req, res, raw, this)
        : new TracedRecord(now, methodLabel, cell, req, res, raw, this, atStart());
    if (this.defaultWrappers.length > 0) {
      for (const wrapper of this.defaultWrappers) this.enter(record, wrapper, req, res, now);
    }
    open.push(record);
    return record;
  }

  /** This engine's record of the request `raw` answers, while the response is not done. */
  recordOf(raw: ServerResponse): RequestRecord | undefined {
    return watchedOf(raw, this) as RequestRecord | undefined;
  }

  /** Called by a record whose response is done: `finish` with the request and response it keeps. */
  endRecord(record: RequestRecord, status: number): void {
    this.finish(record, record.req as Req, record.res as Res, status);
  }

  /** No default metrics for this request (`doNotTrack`); custom ones still run. */
  skipDefaults(record: RequestRecord): void {
    if (record.cell !== null) {
      record.cell.value--;
      record.cell = null;
    }
    record.defaults = false;
  }

  /** No metric at all for this request (`excludeAllMetrics`). */
  skipAll(record: RequestRecord): void {
    this.skipDefaults(record);
    record.customs = false;
    if (record.entered !== null) {
      for (const entry of record.entered) if (entry.labels !== null) entry.metric.finish(entry, undefined, undefined, 0);
      record.entered = null;
    }
  }

  /** A custom wrapper was entered by this request. */
  enter(record: RequestRecord, metric: CustomMetric<Req, Res>, req: Req, res: Res, now = performance.now()): void {
    if (!record.customs || record.finished) return;
    const entry = metric.enter(req, res, now);
    if (entry === null) return;
    if (record.entered === null) record.entered = [entry];
    else record.entered.push(entry);
  }

  /**
   * The response finished (status as sent) or the client went away first (status 499). Records the request
   * once; never throws.
   */
  finish(record: RequestRecord, req: Req, res: Res, status: number): void {
    if (record.finished) return;
    record.finished = true;
    const now = performance.now();
    const cell = record.cell;
    if (cell !== null) cell.value--;
    if (record.defaults) this.recordDefaults(record, req, res, status, now);
    if (record.entered !== null && record.customs) this.finishCustoms(record.entered, req, res, now);
  }

  private recordDefaults(record: RequestRecord, req: Req, res: Res, status: number, now: number): void {
    const o = this.options;
    if (o.skip !== null && this.skipped(o.skip, req, res)) return;
    let route: string;
    let statusValue: number | string = status;
    let dynamic: string[] | null = null;
    try {
      route = record.route ?? this.routeLabel(req, res);
      if (this.statusLabel !== null) statusValue = this.statusLabel(status, req, res);
      if (o.dynamicLabels.length > 0) dynamic = this.dynamicLabelValues(req, res);
    } catch (error) {
      this.reportLabelError(o.names.requests, error);
      return;
    }
    const exception = record.hasError && !isClientError(record.error);
    const seconds = (now - record.start) / 1000;
    const series = (this.store as SeriesStore).observe(record.method, route, statusValue, seconds, exception, dynamic);
    if (this.exemplars !== null) this.exemplars.observe(series, seconds, record, req, res);
  }

  /** `skip(req, res)`; one that throws records the request (and warns once). */
  private skipped(skip: (req: Req, res: Res) => boolean, req: Req, res: Res): boolean {
    try {
      return skip(req, res) === true;
    } catch (error) {
      warnOnce(
        'PROMHTTP_SKIP_THREW',
        `the skip option threw (${error instanceof Error ? error.message : String(error)}); the request is recorded`,
      );
      return false;
    }
  }

  /** The values of the per-request default labels (`defaultLabels` given as functions). May throw. */
  private dynamicLabelValues(req: Req, res: Res): string[] {
    const fns = this.options.dynamicLabels;
    const values = new Array<string>(fns.length);
    for (let i = 0; i < fns.length; i++) values[i] = labelString((fns[i] as (typeof fns)[number])[1](req, res) as LabelValue);
    return values;
  }

  private finishCustoms(entered: EnteredWrapper[], req: Req, res: Res, now: number): void {
    for (const entry of entered) {
      try {
        entry.metric.finish(entry, req, res, now);
      } catch (error) {
        this.reportLabelError((entry.metric as unknown as { name: string }).name, error);
      }
    }
  }

  /** A label function threw or gave no label value: count it, warn once per metric, drop the observation. */
  reportLabelError = (metricName: string, error: unknown): void => {
    this.labelErrors.inc({ metric: metricName });
    if (this.warned.has(metricName)) return;
    this.warned.add(metricName);
    const what = error instanceof LabelValueError ? error.message : `threw (${error instanceof Error ? error.message : String(error)})`;
    // Once per metric, not once per process: each metric with a bad label function is a separate fix.
    process.emitWarning(
      `a label function of metric "${metricName}" ${what}; its observations are dropped and counted in exporter_label_errors_total`,
      { type: WARNING_TYPE, code: 'PROMHTTP_LABEL_ERROR' },
    );
  };

  // --- custom metrics ------------------------------------------------------------------------------

  /** Creates (or reuses) the metric behind a decorator-style wrapper. */
  custom(kind: CustomKind, name: string, help: string, options?: CustomMetricOptions<Req, Res>): CustomMetric<Req, Res> {
    return new CustomMetric<Req, Res>(
      kind,
      name,
      help,
      options,
      {
        client: this.options.client,
        registry: this.options.registry,
        staticLabels: this.options.staticLabels,
        dynamicLabels: this.options.dynamicLabels,
        seriesLimit: this.options.seriesLimit,
        nativeHistograms: this.options.nativeHistograms,
      },
      this.reportLabelError,
    );
  }

  /** An info metric: a Gauge set to 1 with the given labels (and the static default labels); returns that series. */
  info(name: string, help: string, labels: Record<string, LabelValue> = {}): InfoSeries {
    const metric = this.custom('gauge', name, help, {
      labels: labels as Record<string, LabelValue>,
      initialValueWhenOnlyStaticLabels: false,
    });
    const gauge = metric.metric as Gauge<string>;
    const values: Record<string, string> = Object.fromEntries(this.options.staticLabels);
    for (const [k, v] of Object.entries(labels)) values[k] = labelString(v);
    const series = gauge.labels(values);
    series.set(1);
    return series;
  }

  /** These wrappers apply to every recorded request. */
  registerDefault(...metrics: Array<CustomMetric<Req, Res>>): void {
    for (const metric of metrics) {
      if (!(metric instanceof CustomMetric))
        throw new TypeError('prom-http: registerDefault takes wrappers made by counter(), gauge(), summary() or histogram()');
      this.defaultWrappers.push(metric);
    }
  }

  // --- exposition ----------------------------------------------------------------------------------

  /** The exposition of the registry (or of the whole cluster with `cluster: true`). */
  async generateMetrics(options: GenerateOptions = {}): Promise<Exposition> {
    return asExposition(await this.renderer(options));
  }

  /** Answers a scrape: `authorize`, method check, negotiation, `name[]` filter and gzip. Never rejects. */
  async scrape(req: Req | IncomingMessage | undefined, request: ScrapeRequest): Promise<ScrapeResponse> {
    try {
      if (this.options.authorize !== null) {
        let allowed = false;
        try {
          allowed = (await this.options.authorize(req as Req | IncomingMessage)) === true;
        } catch (error) {
          warnOnce('PROMHTTP_AUTHORIZE_THREW', `authorize() threw (${(error as Error)?.message ?? error}); scrapes are refused`);
        }
        if (!allowed) return UNAUTHORIZED;
      }
      return await answerScrape(request, this.renderer);
    } catch (error) {
      return {
        status: 500,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: `metrics could not be rendered: ${(error as Error)?.message ?? error}\n`,
      };
    }
  }

  /** Serves the metrics on their own HTTP server (for `path: null`). Rejects when the port is taken. */
  startHttpServer(port: number, options: HttpServerOptions = {}) {
    return startHttpServer(port, options, (req, request) => this.scrape(req, request));
  }
}
