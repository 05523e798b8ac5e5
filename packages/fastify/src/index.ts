import { type CustomKind, type CustomMetric, PromHttp, pathOf, type RequestRecord, type RouteReader } from '@prom-http/core/internal';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';
import type { FastifyCustomMetricOptions, FastifyMetrics, FastifyMetricsOptions, MetricWrapper, RouteMetricsConfig } from './types.js';

export type * from './types.js';

type Handler = (this: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;

interface RouteContext {
  config?: { url?: string; metrics?: RouteMetricsConfig };
  handler?: { name?: string };
}

/**
 * Fastify keeps a request's route (its config with the full URL template, and its handler) in a symbol-keyed
 * context. `request.routeOptions` builds a new object on every read, so the hot path reads the context
 * directly; the symbol (one per copy of Fastify) is found once, by its description, on the first request.
 */
function routeReader(): { routes: RouteReader<FastifyRequest, FastifyReply>; context: (request: FastifyRequest) => RouteContext } {
  let contextSymbol: symbol | undefined;
  const endpoints = new WeakMap<RouteContext, string>();
  function context(request: FastifyRequest): RouteContext {
    if (contextSymbol === undefined) {
      contextSymbol = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context');
      if (contextSymbol === undefined) return {};
    }
    return ((request as unknown as Record<symbol, RouteContext>)[contextSymbol] ?? {}) as RouteContext;
  }
  const routes: RouteReader<FastifyRequest, FastifyReply> = {
    template: function templateLabel(request) {
      return context(request).config?.url;
    },
    endpoint: function endpointLabel(request) {
      const ctx = context(request);
      const url = ctx.config?.url;
      if (url === undefined) return undefined;
      let name = endpoints.get(ctx);
      if (name === undefined) {
        // Fastify binds route handlers: their name reads "bound <name>".
        name = (ctx.handler?.name ?? '').replace(/^bound /, '') || url;
        endpoints.set(ctx, name);
      }
      return name;
    },
    url: function urlLabel(request) {
      return pathOf(request.url);
    },
  };
  return { routes, context };
}

const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

async function promHttpPlugin(fastify: FastifyInstance, options: FastifyMetricsOptions): Promise<void> {
  const { routes, context: routeContext } = routeReader();
  const engine = new PromHttp<FastifyRequest, FastifyReply>(options, routes);
  const checkExcluded = engine.options.isExcluded !== null;

  fastify.addHook('onRequest', function promHttpOnRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    const flags = routeContext(request).config?.metrics;
    if (flags?.excludeAll === true) {
      done();
      return;
    }
    const record = engine.track(
      request,
      reply,
      reply.raw,
      request.method,
      checkExcluded ? pathOf(request.url) : undefined,
      request.raw.socket,
    );
    if (record !== null && flags?.doNotTrack === true) engine.skipDefaults(record);
    done();
  });

  fastify.addHook(
    'onError',
    function promHttpOnError(_request: FastifyRequest, reply: FastifyReply, error: FastifyError, done: () => void) {
      engine.recordOf(reply.raw)?.fail(error);
      done();
    },
  );

  function route(app: FastifyInstance, path: string): void {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`prom-http: endpoint path must start with "/", got ${path}`);
    app.route({
      method: ALL_METHODS,
      url: path,
      config: { metrics: { excludeAll: true } },
      handler: async function metricsEndpoint(request, reply) {
        const answer = await engine.scrape(request, {
          method: request.method,
          url: request.url,
          accept: request.headers.accept,
          acceptEncoding: request.headers['accept-encoding'],
        });
        return reply.code(answer.status).headers(answer.headers).send(answer.body);
      },
    });
  }
  if (engine.options.path !== null) route(fastify, engine.options.path);

  /** A wrapper that runs `onEnter` when a request reaches the wrapped handler. */
  function wrapper(onEnter: (record: RequestRecord, request: FastifyRequest, reply: FastifyReply) => void): MetricWrapper {
    return function promHttpWrapper(handler) {
      if (typeof handler !== 'function') throw new TypeError('prom-http: a metric wrapper takes the route handler to wrap');
      const h = handler as unknown as Handler;
      // Same sync/async shape as the handler (Fastify treats the two differently), and its name for groupBy 'endpoint'.
      const wrapped = function wrappedHandler(this: unknown, request: FastifyRequest, reply: FastifyReply) {
        const record = engine.recordOf(reply.raw);
        if (record !== undefined) onEnter(record, request, reply);
        return h.call(this, request, reply);
      };
      Object.defineProperty(wrapped, 'name', { value: h.name });
      return wrapped as unknown as typeof handler;
    } as MetricWrapper;
  }

  const wrappers = new WeakMap<MetricWrapper, CustomMetric<FastifyRequest, FastifyReply>>();
  function customWrapper(kind: CustomKind, name: string, help: string, opts?: FastifyCustomMetricOptions): MetricWrapper {
    const metric = engine.custom(kind, name, help, opts);
    const w = wrapper(function enterCustom(record, request, reply) {
      engine.enter(record, metric, request, reply);
    });
    wrappers.set(w, metric);
    return w;
  }

  const api: FastifyMetrics = {
    registry: engine.registry,
    counter: (name, help, opts) => customWrapper('counter', name, help, opts),
    gauge: (name, help, opts) => customWrapper('gauge', name, help, opts),
    summary: (name, help, opts) => customWrapper('summary', name, help, opts),
    histogram: (name, help, opts) => customWrapper('histogram', name, help, opts),
    info: engine.info.bind(engine),
    doNotTrack: () =>
      wrapper(function doNotTrack(record) {
        engine.skipDefaults(record);
      }),
    excludeAllMetrics: () =>
      wrapper(function excludeAllMetrics(record) {
        engine.skipAll(record);
      }),
    registerDefault(...ws) {
      engine.registerDefault(
        ...ws.map((w) => {
          const metric = wrappers.get(w);
          if (metric === undefined)
            throw new TypeError('prom-http: registerDefault takes wrappers made by counter(), gauge(), summary() or histogram()');
          return metric;
        }),
      );
    },
    registerEndpoint(path, app) {
      route(app ?? fastify, path);
    },
    startHttpServer: engine.startHttpServer.bind(engine),
    generateMetrics: engine.generateMetrics.bind(engine),
  };
  fastify.decorate('metrics', api);
}

/**
 * Prometheus metrics for a Fastify app in one line: `await app.register(fastifyMetrics)`.
 *
 * Records the default request metrics of every request, serves the exposition on `path` (`/metrics`) and
 * decorates `fastify.metrics`. Registration rejects with a TypeError naming the option when an option is bad.
 */
export const fastifyMetrics = fp(promHttpPlugin, { fastify: '4.x || 5.x', name: '@prom-http/fastify' });

export default fastifyMetrics;
