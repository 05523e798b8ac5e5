import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { instanceApi, PromHttp, pathOf, type RequestRecord, type RouteReader } from '@prom-http/core/internal';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';
import { type RouteInfo, routeInfoReader } from './route-info.js';
import type { FastifyMetrics, FastifyMetricsOptions, MetricWrapper } from './types.js';

export type * from './types.js';

type Handler = (this: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;

/** A request as the route reader sees it: Fastify's, with this instance's route info, or Node's (see `arrival`). */
type Tagged = FastifyRequest & Record<symbol, RouteInfo | null | undefined>;

/**
 * Whether `fastify` is the root context. Fastify names the root context's plugin chain "fastify"
 * (`fastify.pluginName`), and a plugin registered with fastify-plugin adds its name after " -> ".
 */
function isRootContext(fastify: FastifyInstance): boolean {
  const name = fastify.pluginName;
  return name === 'fastify' || (typeof name === 'string' && name.startsWith('fastify -> '));
}

const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Checks the `endpointOptions` option: route options, without those prom-http sets. */
function resolveEndpointOptions(value: unknown): FastifyMetricsOptions['endpointOptions'] {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`prom-http: option "endpointOptions" must be an object of route options, got ${String(value)}`);
  }
  for (const key of ['method', 'url', 'path', 'handler']) {
    if (key in value)
      throw new TypeError(`prom-http: option "endpointOptions" cannot set "${key}": the metrics route's ${key} is prom-http's`);
  }
  return value as FastifyMetricsOptions['endpointOptions'];
}

type Engine = PromHttp<FastifyRequest, FastifyReply>;

/** The route reader of one instance: what its hooks left on the request under `kRoute`. */
function routeReader(kRoute: symbol): RouteReader<FastifyRequest, FastifyReply> {
  return {
    template: function templateLabel(request) {
      return (request as Tagged)[kRoute]?.template;
    },
    endpoint: function endpointLabel(request) {
      return (request as Tagged)[kRoute]?.endpoint;
    },
    url: function urlLabel(request) {
      return pathOf(request.url);
    },
  };
}

/**
 * The hooks that record every request of the context: `onRequest` binds the record to Fastify's request and
 * reply, `onSend` and `onError` catch what an earlier hook answered or failed before it ran.
 */
function addRecordingHooks(fastify: FastifyInstance, engine: Engine, kRoute: symbol): void {
  const routeInfo = routeInfoReader();
  const checkExcluded = engine.options.isExcluded !== null;
  fastify.decorateRequest(kRoute, null);
  fastify.addHook('onRoute', routeInfo.precompute);

  /**
   * This engine's record of the request, tied to Fastify's request and reply and to the route's opt-outs: the one
   * started when the request arrived, else a new one (`inject`, a plugin in a child context) from `start`.
   */
  function bind(request: FastifyRequest, reply: FastifyReply, start?: number): RequestRecord | null {
    const info = routeInfo.read(request);
    (request as Tagged)[kRoute] = info;
    const path = checkExcluded ? pathOf(request.url) : undefined;
    const record = engine.track(request, reply, reply.raw, request.method, path, request.raw.socket, start);
    if (record === null) return null;
    record.req = request;
    record.res = reply;
    if (info.excludeAll) engine.skipAll(record);
    else if (info.doNotTrack) engine.skipDefaults(record);
    if (info.routeLabel !== undefined) record.route = info.routeLabel;
    return record;
  }

  /**
   * `bind` for a request that an earlier hook answered or failed before this plugin's onRequest hook ran. Without a
   * record from its arrival (`inject`, a child context), it is timed from Fastify's reply start when Fastify keeps
   * one (`reply.elapsedTime`: with a logger or onResponse hooks), else from now.
   */
  function bindLate(request: FastifyRequest, reply: FastifyReply): RequestRecord | null {
    const elapsed = (reply as { elapsedTime?: unknown }).elapsedTime;
    return bind(request, reply, typeof elapsed === 'number' ? performance.now() - elapsed : undefined);
  }

  fastify.addHook('onRequest', function promHttpOnRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    bind(request, reply);
    done();
  });

  // An onRequest hook added before this plugin may answer (401, 429) or fail the request before the one above
  // runs: its reply still passes here before it is sent.
  fastify.addHook('onSend', function promHttpOnSend(request: FastifyRequest, reply: FastifyReply, payload: unknown, done) {
    if ((request as Tagged)[kRoute] === null) bindLate(request, reply);
    done(null, payload);
  });

  fastify.addHook('onError', function promHttpOnError(request: FastifyRequest, reply: FastifyReply, error: FastifyError, done: () => void) {
    const record = (request as Tagged)[kRoute] === null ? bindLate(request, reply) : engine.recordOf(reply.raw);
    record?.fail(error);
    done();
  });
}

/**
 * In the root context, every request of the server is this instance's: start its record when Node's server
 * emits it, before any Fastify hook, so that the duration starts at its arrival, and a request Fastify answers
 * before routing (400 for an undecodable URL, 414 for an over-long parameter, 503 while closing), which no
 * hook sees, is recorded too, as <unmatched>. In a child context, only the hooks see its requests.
 */
function recordArrivals(fastify: FastifyInstance, engine: Engine): void {
  const server = fastify.server as Server | undefined;
  if (!isRootContext(fastify) || typeof server?.prependListener !== 'function') return;
  const checkExcluded = engine.options.isExcluded !== null;
  const arrival = function promHttpArrival(req: IncomingMessage, res: ServerResponse) {
    const path = checkExcluded ? pathOf(req.url ?? '/') : undefined;
    engine.track(req as unknown as FastifyRequest, res as unknown as FastifyReply, res, req.method ?? 'GET', path, req.socket);
  };
  server.prependListener('request', arrival);
  fastify.addHook('onClose', function removeArrival(_instance, done) {
    server.removeListener('request', arrival);
    done();
  });
}

/** Adds a metrics route to `app` (never recorded), with the `endpointOptions` route options. */
function metricsRoute(engine: Engine, endpointOptions: FastifyMetricsOptions['endpointOptions']) {
  return function route(app: FastifyInstance, path: string): void {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`prom-http: endpoint path must start with "/", got ${path}`);
    app.route({
      ...endpointOptions,
      method: ALL_METHODS,
      url: path,
      config: { ...endpointOptions?.config, metrics: { excludeAll: true } },
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
  };
}

/** The wrapper maker of the instance API: runs `onEnter` when a request reaches the wrapped handler. */
function wrapperOf(engine: Engine) {
  return function wrapper(onEnter: (record: RequestRecord, request: FastifyRequest, reply: FastifyReply) => void): MetricWrapper {
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
  };
}

/** `startHttpServer`, whose servers close with the app. */
function serversClosedWithApp(fastify: FastifyInstance, engine: Engine): FastifyMetrics['startHttpServer'] {
  const metricsServers = new Set<Server>();
  fastify.addHook('onClose', async function closeMetricsServers() {
    await Promise.all(
      [...metricsServers].map(
        (metricsServer) =>
          new Promise<void>((resolve) => {
            metricsServer.close(() => resolve());
            metricsServer.closeIdleConnections();
          }),
      ),
    );
  });
  return async function startHttpServer(port, serverOptions) {
    const metricsServer = await engine.startHttpServer(port, serverOptions);
    metricsServers.add(metricsServer);
    metricsServer.once('close', () => metricsServers.delete(metricsServer));
    return metricsServer;
  };
}

/** `fastify.metrics`, with a message naming the likely cause and the fix when another plugin took the name. */
function decorate(fastify: FastifyInstance, api: FastifyMetrics): void {
  try {
    fastify.decorate('metrics', api);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'FST_ERR_DEC_ALREADY_PRESENT') throw error;
    throw new TypeError(
      'prom-http: fastify.metrics is already decorated in this context, most likely by another metrics plugin (fastify-metrics decorates fastify.metrics too): ' +
        "register that plugin with { name: 'oldMetrics' }, or register @prom-http/fastify in another encapsulation context",
      { cause: error },
    );
  }
}

async function promHttpPlugin(fastify: FastifyInstance, options: FastifyMetricsOptions): Promise<void> {
  // This instance's route info of a request, once its hooks have seen the request (null before).
  const kRoute = Symbol('prom-http route of the request');
  const engine: Engine = new PromHttp<FastifyRequest, FastifyReply>(options, routeReader(kRoute), ['endpointOptions']);
  const route = metricsRoute(engine, resolveEndpointOptions(options?.endpointOptions));
  addRecordingHooks(fastify, engine, kRoute);
  recordArrivals(fastify, engine);
  if (engine.options.path !== null) route(fastify, engine.options.path);
  decorate(fastify, {
    registry: engine.registry,
    client: engine.client,
    ...instanceApi(engine, wrapperOf(engine)),
    registerEndpoint(path, app) {
      route(app ?? fastify, path);
    },
    startHttpServer: serversClosedWithApp(fastify, engine),
  });
}

/**
 * Prometheus metrics for a Fastify app in one line: `await app.register(fastifyMetrics)`.
 *
 * Records the default request metrics of every request, serves the exposition on `path` (`/metrics`) and
 * decorates `fastify.metrics`. Registration rejects with a TypeError naming the option when an option is bad.
 */
export const fastifyMetrics = fp(promHttpPlugin, { fastify: '4.x || 5.x', name: '@prom-http/fastify' });

export default fastifyMetrics;
