import type { Server } from 'node:http';
import type { InfoSeries, PromClientLike, RegistryLike } from '@prom-http/core';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { describe, expectTypeOf, it } from 'vitest';
import { type ExpressMetrics, type ExpressMetricsOptions, metrics } from './index.js';

describe('express middleware types', () => {
  it('is middleware with the instance API', () => {
    const m = metrics({ prefix: 'api', groupBy: 'endpoint' });
    expectTypeOf(m).toEqualTypeOf<ExpressMetrics>();
    expectTypeOf(m).toMatchTypeOf<RequestHandler>();
    expectTypeOf(m.registry).toEqualTypeOf<RegistryLike>();
    expectTypeOf(m.client).toEqualTypeOf<PromClientLike>();
    expectTypeOf(m.info('a_info', 'x', { v: 1 })).toEqualTypeOf<InfoSeries>();
    expectTypeOf(m.startHttpServer(9100)).toEqualTypeOf<Promise<Server>>();
    const app = express();
    app.use(m);
    // @ts-expect-error groupBy takes only the listed values or a function
    const bad: ExpressMetricsOptions = { groupBy: 'route' };
    void bad;
  });

  it('label functions get Express req and res', () => {
    const m = metrics();
    m.counter('c_total', 'c', {
      labels: {
        user: (req, res) => {
          expectTypeOf(req).toEqualTypeOf<Request>();
          expectTypeOf(res).toEqualTypeOf<Response>();
          return req.params.id;
        },
        fixed: 3,
      },
    });
    const options: ExpressMetricsOptions = {
      defaultLabels: { host: (req) => req.hostname },
      authorize: (req) => req.headers.authorization === 'x',
    };
    void options;
  });

  it('a wrapper is route middleware and wraps a handler keeping its type', () => {
    const m = metrics();
    const wrap = m.histogram('h_seconds', 'h');
    const handler = (req: Request, res: Response) => {
      res.json({ id: req.params.id });
    };
    expectTypeOf(wrap(handler)).toEqualTypeOf(handler);
    const app = express();
    app.get('/x', wrap, handler);
    app.get('/y', m.doNotTrack(), handler);
    app.get('/z', m.excludeAllMetrics()(handler));
  });
});
