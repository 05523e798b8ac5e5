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
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod, RouteOptions } from 'fastify';

/** Options of the plugin: the same names as in every prom-http adapter, and `endpointOptions`. */
export interface FastifyMetricsOptions extends MetricsOptions<FastifyRequest, FastifyReply> {
  /**
   * Route options merged into the metrics route: `schema` (e.g. `{ hide: true }` for swagger), `onRequest` hooks,
   * `config`, `logLevel`, ... (`method`, `url` and `handler` are prom-http's).
   * @defaultValue none
   */
  endpointOptions?: Omit<RouteOptions, 'method' | 'url' | 'handler'>;
}

/** Options of a custom metric; label functions get Fastify's `(request, reply)`. */
export type FastifyCustomMetricOptions = CustomMetricOptions<FastifyRequest, FastifyReply>;

/** A decorator-style metric wrapper: `wrapper(handler)` returns a handler that records around `handler`. */
export type MetricWrapper = <H extends RouteHandlerMethod<any, any, any, any, any, any, any, any>>(handler: H) => H;

/** Per-route opt-outs, in the route's `config.metrics`. */
export interface RouteMetricsConfig {
  /** No default metrics for this route; custom ones still run. @defaultValue `false` */
  doNotTrack?: boolean;
  /** No metric at all for this route. @defaultValue `false` */
  excludeAll?: boolean;
  /** The route label of this route's requests, whatever `groupBy` reads. @defaultValue none (the `groupBy` value) */
  routeLabel?: string;
}

/** `fastify.metrics`: the instance API. */
export interface FastifyMetrics {
  /** The registry every metric of this instance is registered in. */
  readonly registry: RegistryLike;
  /** The client module every metric is made with: `prom-client` or `@prometheus-io/client` (see the `promClient` option). */
  readonly client: PromClientLike;
  /** A counter: +1 once the response has finished. */
  counter(name: string, help: string, options?: FastifyCustomMetricOptions): MetricWrapper;
  /** A gauge: +1 on entry, -1 at the finish (labels evaluated on entry). */
  gauge(name: string, help: string, options?: FastifyCustomMetricOptions): MetricWrapper;
  /** A summary of the seconds from entering the wrapper to the response finish. */
  summary(name: string, help: string, options?: FastifyCustomMetricOptions): MetricWrapper;
  /** A histogram of the seconds from entering the wrapper to the response finish. */
  histogram(name: string, help: string, options?: FastifyCustomMetricOptions): MetricWrapper;
  /** A Gauge set to 1 with these labels (and the static default labels); returns that series (`.set(5)` changes it). */
  info(name: string, help: string, labels?: Record<string, LabelValue>): InfoSeries;
  /** No default metrics for the wrapped handler's requests; custom ones still run. */
  doNotTrack(): MetricWrapper;
  /** No metric at all for the wrapped handler's requests. */
  excludeAllMetrics(): MetricWrapper;
  /** The route label of the wrapped handler's requests (the route config's `metrics.routeLabel` does the same). */
  routeLabel(value: string): MetricWrapper;
  /**
   * Turns the default metrics on, for a plugin registered with `exportDefaults: false`, with these default-metric
   * options over the plugin's. Throws when they are on already.
   */
  exportDefaults(options?: DefaultMetricsOptions<FastifyRequest, FastifyReply>): void;
  /** These wrappers apply to every recorded request. */
  registerDefault(...wrappers: MetricWrapper[]): void;
  /** Serve the metrics on `path` of this instance (before `ready`) or of `app`. */
  registerEndpoint(path: string, app?: FastifyInstance): void;
  /** Serve the metrics on a server of their own (for `path: null`). Rejects when the port is taken. */
  startHttpServer(port: number, options?: HttpServerOptions): Promise<Server>;
  /** The exposition, as a scrape would get it. */
  generateMetrics(options?: GenerateOptions): Promise<Exposition>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** prom-http's instance API. */
    metrics: FastifyMetrics;
  }
  interface FastifyContextConfig {
    /** prom-http opt-outs for this route. */
    metrics?: RouteMetricsConfig;
  }
}
