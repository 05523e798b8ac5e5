import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { samples } from '../../../test/helpers/exposition.js';
import { peerOptionsSuite } from '../../../test/helpers/peer-options.js';
import fastifyMetrics, { type FastifyMetricsOptions } from './index.js';

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

async function build(options: Record<string, unknown>) {
  const registry = new Registry();
  const app = Fastify();
  apps.push(app);
  await app.register(fastifyMetrics, { registry, collectDefaultMetrics: false, ...options } as FastifyMetricsOptions);
  app.get('/users/:id', async () => 'ok');
  app.post('/users/:id', async (_req, reply) => reply.code(201).send('created'));
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  app.get('/labelled/:id', { config: { metrics: { routeLabel: 'users-by-config' } } }, async () => 'ok');
  app.get(
    '/wrapped/:id',
    app.metrics.routeLabel('users-by-wrapper')(async () => 'ok'),
  );
  await app.ready();
  return { app, registry };
}

peerOptionsSuite('fastify', async (options) => {
  const { app, registry } = await build(options);
  return {
    hit: async (method, url) => (await app.inject({ method: method as 'GET', url })).statusCode,
    scrape: async (query = '') => (await app.inject(`/metrics${query}`)).body,
    api: app.metrics,
    registry,
  };
});

describe('fastify: per-route label and endpointOptions', () => {
  it('config.metrics.routeLabel and app.metrics.routeLabel set the route label', async () => {
    const { app } = await build({});
    await app.inject('/labelled/1');
    await app.inject('/wrapped/2');
    const text = (await app.inject('/metrics')).body;
    expect(samples(text, 'http_request_total').map((s) => s.labels.path)).toEqual(['users-by-config', 'users-by-wrapper']);
  });

  it('a route whose config.metrics.routeLabel is not a string fails to register', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(fastifyMetrics, { registry: new Registry(), collectDefaultMetrics: false });
    expect(() => app.get('/x', { config: { metrics: { routeLabel: 5 as unknown as string } } }, async () => 'x')).toThrow(
      /config\.metrics\.routeLabel must be a string/,
    );
  });

  it('endpointOptions are merged into the metrics route (an onRequest hook guards it; config is kept)', async () => {
    const { app } = await build({
      endpointOptions: {
        config: { source: 'prom-http' },
        onRequest: async (request: { headers: Record<string, unknown> }, reply: { code(n: number): { send(b: string): unknown } }) => {
          if (request.headers['x-token'] !== 'secret') return reply.code(403).send('forbidden');
        },
      },
    });
    expect((await app.inject('/metrics')).statusCode).toBe(403);
    const allowed = await app.inject({ url: '/metrics', headers: { 'x-token': 'secret' } });
    expect(allowed.statusCode).toBe(200);
    // The scrapes, allowed or refused, are never recorded.
    expect(samples(allowed.body, 'http_request_total')).toEqual([]);
  });

  it.each([[null], ['x'], [{ url: '/x' }], [{ handler: () => 1 }]])(
    'endpointOptions %j is refused at registration',
    async (endpointOptions) => {
      await expect(build({ endpointOptions })).rejects.toThrow(/option "endpointOptions"/);
    },
  );
});
