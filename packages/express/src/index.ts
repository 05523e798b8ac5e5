import { instanceApi, PromHttp, pathOf, type RequestRecord, type RouteReader, skipOpen } from '@prom-http/core/internal';
import type { Application, NextFunction, Request, Response } from 'express';
import { watchErrors } from './error-source.js';
import { requestError } from './request-error.js';
import { endpointName, routeTemplate } from './route-template.js';
import type { ExpressMetrics, ExpressMetricsOptions, MetricWrapper } from './types.js';

export type * from './types.js';

type Handler = (...args: unknown[]) => unknown;

const QUESTION_MARK = 63;

/** Whether `url` is `path`, with or without a query string; no allocation (this runs on every request). */
function isPath(url: string, path: string): boolean {
  return url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === QUESTION_MARK);
}

const routes: RouteReader<Request, Response> = {
  template: routeTemplate,
  endpoint: endpointName,
  url: function urlLabel(req) {
    return pathOf(req.originalUrl ?? req.url);
  },
};

type Engine = PromHttp<Request, Response>;

/**
 * The record of the request: the one this instance, or another one on the same registry, started (its
 * middleware or a wrapper), else a new one; null when nothing is recorded for it. So a request is recorded
 * once per registry, by the first instance it meets (the same middleware mounted twice, an app and its
 * router each mounting one), and instances on two registries each record it. The errors of the request's app
 * are watched; an error may already have passed by (a layer before this one, or a wrapped error handler): a
 * record started now looks it up.
 */
function tracker(engine: Engine): (req: Request, res: Response) => RequestRecord | null {
  const checkExcluded = engine.options.isExcluded !== null;
  return function trackLate(req, res) {
    watchErrors(req.app);
    const path = checkExcluded ? pathOf(req.originalUrl ?? req.url) : undefined;
    const record = engine.track(req, res, res, req.method, path, req.socket);
    if (record !== null) {
      const error = requestError(res);
      if (error !== undefined) record.fail(error);
    }
    return record;
  };
}

/** Answers a scrape. Whatever goes wrong, the client gets an answer and no promise is left rejected. */
function scrapeHandler(engine: Engine): (req: Request, res: Response) => void {
  return function serveMetrics(req, res) {
    // An instance mounted before this one may have started recording the request: a scrape is never recorded.
    skipOpen(res);
    engine
      .scrape(req, {
        method: req.method,
        url: req.originalUrl ?? req.url,
        accept: req.headers.accept,
        acceptEncoding: req.headers['accept-encoding'] as string | undefined,
      })
      .then(function sendScrape(answer) {
        // Something else may have answered while the metrics were rendered (a timeout middleware).
        if (res.headersSent) return;
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      })
      .catch(function scrapeFailed(error: unknown) {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`metrics could not be rendered: ${(error as Error)?.message ?? error}\n`);
        } else if (!res.writableEnded) {
          res.destroy();
        }
      });
  };
}

/** The wrapper maker of the instance API: runs `onEnter` when a request reaches it, as route middleware or around a handler. */
function wrapperOf(engine: Engine, trackLate: (req: Request, res: Response) => RequestRecord | null) {
  return function wrapper(onEnter: (record: RequestRecord, req: Request, res: Response) => void): MetricWrapper {
    function enter(req: Request, res: Response): void {
      let record: RequestRecord | null | undefined = engine.recordOf(res);
      // A response already done (a wrapper entered after it was sent) is not started again.
      if (record === undefined) record = res.writableFinished ? null : trackLate(req, res);
      if (record !== null) onEnter(record, req, res);
    }
    return function promHttpWrapper(this: unknown, ...args: unknown[]) {
      const [first] = args;
      if (args.length === 1 && typeof first === 'function') return wrapHandler(first as Handler, enter);
      const [req, res, next] = args as [Request, Response, NextFunction];
      enter(req, res);
      next();
      return undefined;
    } as MetricWrapper;
  };
}

/** `handler`, entering the wrapper first; an error handler stays one (Express tells them by their arity). */
function wrapHandler(handler: Handler, enter: (req: Request, res: Response) => void): Handler {
  const wrapped =
    handler.length === 4
      ? function wrappedErrorHandler(this: unknown, err: unknown, req: Request, res: Response, next: NextFunction) {
          enter(req, res);
          return handler.call(this, err, req, res, next);
        }
      : function wrappedHandler(this: unknown, req: Request, res: Response, next: NextFunction) {
          enter(req, res);
          return handler.call(this, req, res, next);
        };
  // groupBy 'endpoint' reads the handler's name.
  Object.defineProperty(wrapped, 'name', { value: handler.name });
  return wrapped as Handler;
}

/**
 * Prometheus metrics for an Express app in one line: `app.use(metrics())`.
 *
 * Records the default request metrics of every request and serves the exposition on `path` (`/metrics`).
 * Mount it before the routes. Throws a TypeError naming the option when an option is bad.
 */
export function metrics(options?: ExpressMetricsOptions): ExpressMetrics {
  const engine = new PromHttp<Request, Response>(options, routes);
  const endpoints: string[] = engine.options.path === null ? [] : [engine.options.path];
  const trackLate = tracker(engine);
  const serveMetrics = scrapeHandler(engine);

  const middleware = function promHttpMiddleware(req: Request, res: Response, next: NextFunction): void {
    // `req.url` is relative to where the middleware is mounted (Express moves the mount path to `req.baseUrl`).
    for (let i = 0; i < endpoints.length; i++) {
      if (isPath(req.url, endpoints[i] as string)) {
        serveMetrics(req, res);
        return;
      }
    }
    trackLate(req, res);
    next();
  } as ExpressMetrics;

  Object.defineProperties(middleware, {
    registry: { value: engine.registry, enumerable: true },
    client: { value: engine.client, enumerable: true },
  });
  Object.assign(middleware, instanceApi(engine, wrapperOf(engine, trackLate)), {
    registerEndpoint(path: string, app?: Application) {
      if (typeof path !== 'string' || !path.startsWith('/'))
        throw new TypeError(`prom-http: registerEndpoint path must start with "/", got ${path}`);
      // Served (and never recorded) by this middleware wherever it runs; `app` may be one it does not run in.
      if (!endpoints.includes(path)) endpoints.push(path);
      if (app !== undefined) app.all(path, serveMetrics);
    },
    startHttpServer: engine.startHttpServer.bind(engine),
  });
  return middleware;
}

export default metrics;
