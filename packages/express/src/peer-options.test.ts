import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { samples } from '../../../test/helpers/exposition.js';
import { peerOptionsSuite } from '../../../test/helpers/peer-options.js';
import { type ExpressMetricsOptions, metrics } from './index.js';

function build(options: Record<string, unknown>) {
  const registry = new Registry();
  const m = metrics({ registry, collectDefaultMetrics: false, ...options } as ExpressMetricsOptions);
  const app = express();
  app.use(m);
  app.get('/users/:id', (_req, res) => {
    res.send('ok');
  });
  app.post('/users/:id', (_req, res) => {
    res.status(201).send('created');
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.get(
    '/labelled/:id',
    m.routeLabel('users-by-config')((_req, res) => {
      res.send('ok');
    }),
  );
  app.get('/as-middleware/:id', m.routeLabel('users-by-middleware'), (_req, res) => {
    res.send('ok');
  });
  return { app, m, registry };
}

peerOptionsSuite('express', async (options) => {
  const { app, m, registry } = build(options);
  return {
    hit: async (method, url) => (await request(app)[method.toLowerCase() as 'get'](url)).status,
    scrape: async (query = '') => (await request(app).get(`/metrics${query}`)).text,
    api: m,
    registry,
  };
});

describe('express: per-route label and adapter options', () => {
  it('m.routeLabel works around a handler and as route middleware', async () => {
    const { app } = build({});
    await request(app).get('/labelled/1');
    await request(app).get('/as-middleware/2');
    const text = (await request(app).get('/metrics')).text;
    expect(samples(text, 'http_request_total').map((s) => s.labels.path)).toEqual(['users-by-config', 'users-by-middleware']);
  });

  it('m.routeLabel takes a string only', () => {
    const { m } = build({});
    expect(() => m.routeLabel(3 as unknown as string)).toThrow(TypeError);
  });

  it('endpointOptions is refused, naming the adapter that has it', () => {
    expect(() => metrics({ endpointOptions: {} } as ExpressMetricsOptions)).toThrow(
      /option "endpointOptions" is an option of @prom-http\/fastify only/,
    );
  });
});
