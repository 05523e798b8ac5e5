import type { Server } from 'node:http';
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
} from '@prom-http/core';
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';

/** Options of {@link metrics}: the same names as in every prom-http adapter. */
export type ExpressMetricsOptions = MetricsOptions<Request, Response>;

/** Options of a custom metric; label functions get Express's `(req, res)`. */
export type ExpressCustomMetricOptions = CustomMetricOptions<Request, Response>;

/**
 * A decorator-style metric wrapper. `wrapper(handler)` returns a handler that records around `handler`;
 * the wrapper also stands as route middleware: `app.get('/x', wrapper, handler)`.
 */
export interface MetricWrapper extends RequestHandler {
  <H extends (req: Request, res: Response, next: NextFunction) => unknown>(handler: H): H;
  <H extends (err: unknown, req: Request, res: Response, next: NextFunction) => unknown>(handler: H): H;
}

/** The middleware returned by {@link metrics}, with the instance API. */
export interface ExpressMetrics extends RequestHandler {
  /** The registry every metric of this instance is registered in. */
  readonly registry: RegistryLike;
  /** The client module every metric is made with: `prom-client` or `@prometheus-io/client` (see the `promClient` option). */
  readonly client: PromClientLike;
  /** A counter: +1 once the response has finished. */
  counter(name: string, help: string, options?: ExpressCustomMetricOptions): MetricWrapper;
  /** A gauge: +1 on entry, -1 at the finish (labels evaluated on entry). */
  gauge(name: string, help: string, options?: ExpressCustomMetricOptions): MetricWrapper;
  /** A summary of the seconds from entering the wrapper to the response finish. */
  summary(name: string, help: string, options?: ExpressCustomMetricOptions): MetricWrapper;
  /** A histogram of the seconds from entering the wrapper to the response finish. */
  histogram(name: string, help: string, options?: ExpressCustomMetricOptions): MetricWrapper;
  /** A Gauge set to 1 with these labels (and the static default labels); returns that series (`.set(5)` changes it). */
  info(name: string, help: string, labels?: Record<string, LabelValue>): InfoSeries;
  /** No default metrics for the wrapped route; custom ones still run. */
  doNotTrack(): MetricWrapper;
  /** No metric at all for the wrapped route. */
  excludeAllMetrics(): MetricWrapper;
  /** The route label of the wrapped route's requests, whatever `groupBy` reads: `app.get('/u/:id', m.routeLabel('users'), h)`. */
  routeLabel(value: string): MetricWrapper;
  /**
   * Turns the default metrics on, for an instance created with `exportDefaults: false`, with these default-metric
   * options over the instance's. Throws when they are on already.
   */
  exportDefaults(options?: DefaultMetricsOptions<Request, Response>): void;
  /** These wrappers apply to every recorded request. */
  registerDefault(...wrappers: MetricWrapper[]): void;
  /** Serve the metrics on `path` too: of every app this middleware runs in, or of `app`. */
  registerEndpoint(path: string, app?: Application): void;
  /** Serve the metrics on a server of their own (for `path: null`). Rejects when the port is taken. */
  startHttpServer(port: number, options?: HttpServerOptions): Promise<Server>;
  /** The exposition, as a scrape would get it. */
  generateMetrics(options?: GenerateOptions): Promise<Exposition>;
}
