import type { InfoSeries, PromClientLike, RegistryLike } from '@prom-http/core';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';
import fastifyMetrics, { type FastifyMetrics, type FastifyMetricsOptions } from './index.js';

describe('fastify plugin types', () => {
  it('registers with typed options and decorates fastify.metrics', async () => {
    const app = Fastify();
    await app.register(fastifyMetrics, { groupBy: 'path', prefix: 'api', buckets: [0.1, 1] });
    expectTypeOf(app.metrics).toEqualTypeOf<FastifyMetrics>();
    expectTypeOf(app.metrics.registry).toEqualTypeOf<RegistryLike>();
    expectTypeOf(app.metrics.client).toEqualTypeOf<PromClientLike>();
    expectTypeOf(app.metrics.info('a_info', 'x', { v: '1' })).toEqualTypeOf<InfoSeries>();
    // @ts-expect-error groupBy takes only the listed values or a function
    const bad: FastifyMetricsOptions = { groupBy: 'route' };
    void bad;
  });

  it('label functions get Fastify request and reply', () => {
    const app = Fastify();
    app.metrics.counter('c_total', 'c', {
      labels: {
        status: (req, reply) => {
          expectTypeOf(req).toEqualTypeOf<FastifyRequest>();
          expectTypeOf(reply).toEqualTypeOf<FastifyReply>();
          return reply.statusCode;
        },
        fixed: 'x',
      },
    });
    const options: FastifyMetricsOptions = {
      defaultLabels: { host: (req) => req.hostname },
      groupBy: function tenant(req) {
        expectTypeOf(req).toEqualTypeOf<FastifyRequest>();
        return 'x';
      },
      authorize: async (req) => req.headers.authorization === 'x',
    };
    void options;
  });

  it('wrappers keep the handler type', () => {
    const app = Fastify();
    const wrap = app.metrics.histogram('h_seconds', 'h');
    const handler = async (req: FastifyRequest) => ({ id: req.id });
    expectTypeOf(wrap(handler)).toEqualTypeOf(handler);
  });

  it('augments the route config', () => {
    const app = Fastify();
    app.get('/x', { config: { metrics: { doNotTrack: true } } }, async () => 'x');
    app.get('/y', { config: { metrics: { excludeAll: true } } }, async () => 'y');
    // @ts-expect-error opt-outs are booleans
    app.get('/z', { config: { metrics: { doNotTrack: 'yes' } } }, async () => 'z');
  });
});
