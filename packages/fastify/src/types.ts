import type { Server } from 'node:http';
import type {
  CustomMetricOptions,
  Exposition,
  GaugeLike,
  GenerateOptions,
  HttpServerOptions,
  LabelValue,
  MetricsOptions,
  PromClientLike,
  RegistryLike,
} from '@prom-http/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';

/** Options of the plugin: the same names as in every prom-http adapter. */
export type FastifyMetricsOptions = MetricsOptions<FastifyRequest, FastifyReply>;

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
  /** A Gauge set to 1 with these labels. */
  info(name: string, help: string, labels?: Record<string, LabelValue>): GaugeLike;
  /** No default metrics for the wrapped handler's requests; custom ones still run. */
  doNotTrack(): MetricWrapper;
  /** No metric at all for the wrapped handler's requests. */
  excludeAllMetrics(): MetricWrapper;
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
