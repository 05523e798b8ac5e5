import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import Fastify4 from 'fastify4';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { parseExposition, samples, sampleValue } from '../../../test/helpers/exposition.js';
import fastifyMetrics, { fastifyMetrics as named } from './index.js';

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

async function build(options: Record<string, unknown> = {}, routes?: (app: FastifyInstance) => void, factory = Fastify) {
  const registry = new Registry();
  const app = factory() as unknown as FastifyInstance;
  apps.push(app);
  await app.register(fastifyMetrics, { registry, collectDefaultMetrics: false, ...options });
  app.get('/users/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  app.register(
    async (sub) => {
      sub.get('/items/:itemId', async () => ({ ok: true }));
    },
    { prefix: '/api/v1' },
  );
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  app.get('/teapot', async (_req, reply) => {
    const error = Object.assign(new Error('nope'), { statusCode: 418 });
    return reply.send(error);
  });
  app.setErrorHandler((error: Error, _req, reply) => {
    if (error.message === 'handled') return reply.code(200).send({ handled: true });
    return reply.code((error as { statusCode?: number }).statusCode ?? 500).send({ error: error.message });
  });
  app.get('/handled', async () => {
    throw new Error('handled');
  });
  routes?.(app);
  await app.ready();
  return { app, registry };
}

const scrape = async (app: FastifyInstance, url = '/metrics', headers: Record<string, string> = {}) =>
  (await app.inject({ url, headers })).body;

describe('fastify plugin: default metrics', () => {
  it('exports the default and named plugin', () => {
    expect(named).toBe(fastifyMetrics);
  });

  it('records method, route template and status of each request once', async () => {
    const { app } = await build();
    await app.inject('/users/1');
    await app.inject('/users/2');
    await app.inject({ method: 'GET', url: '/api/v1/items/9?x=1' });
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_total', { method: 'GET', path: '/users/:id', status: '200' })).toBe(2);
    expect(sampleValue(text, 'http_request_total', { path: '/api/v1/items/:itemId' })).toBe(1);
    expect(sampleValue(text, 'http_request_duration_seconds_count', { path: '/users/:id' })).toBe(2);
    expect(sampleValue(text, 'http_request_duration_seconds_bucket', { path: '/users/:id', le: '+Inf' })).toBe(2);
    const les = samples(text, 'http_request_duration_seconds_bucket')
      .filter((s) => s.labels.path === '/users/:id')
      .map((s) => s.labels.le);
    expect(les).toEqual(['0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '+Inf']);
    expect(sampleValue(text, 'exporter_info', { version: '0.1.0' })).toBe(1);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
    // The endpoint itself is never recorded.
    expect(text).not.toContain('path="/metrics"');
  });

  it('labels unmatched requests <unmatched>', async () => {
    const { app } = await build();
    await app.inject('/nope/1');
    await app.inject('/nope/2');
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_total', { path: '<unmatched>', status: '404' })).toBe(2);
  });

  it('counts exceptions but not 4xx errors, with the status sent', async () => {
    const { app } = await build();
    await app.inject('/boom');
    await app.inject('/teapot');
    await app.inject('/handled');
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/boom', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/boom', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/teapot' })).toBeUndefined();
    expect(sampleValue(text, 'http_request_total', { path: '/teapot', status: '418' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/handled', status: '200' })).toBe(1);
  });

  it('groupBy endpoint, url and a named function', async () => {
    const endpoint = await build({ groupBy: 'endpoint' }, (app) => {
      app.get('/named/:x', async function namedHandler() {
        return 'x';
      });
    });
    await endpoint.app.inject('/named/1');
    await endpoint.app.inject('/users/5');
    await endpoint.app.inject('/missing');
    let text = await scrape(endpoint.app);
    expect(sampleValue(text, 'http_request_total', { endpoint: 'namedHandler' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { endpoint: '/users/:id' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { endpoint: '<unmatched>' })).toBe(1);

    const url = await build({ groupBy: 'url' });
    await url.app.inject('/users/5?q=1');
    text = await scrape(url.app);
    expect(sampleValue(text, 'http_request_total', { url: '/users/5' })).toBe(1);

    const fn = await build({
      groupBy: function tenant(req: { headers: Record<string, string> }) {
        return req.headers['x-tenant'] ?? 'none';
      },
    });
    await fn.app.inject({ url: '/users/1', headers: { 'x-tenant': 'acme' } });
    text = await scrape(fn.app);
    expect(sampleValue(text, 'http_request_total', { tenant: 'acme' })).toBe(1);
  });

  it('folds route values past seriesLimit into <overflow>', async () => {
    const { app } = await build({ groupBy: 'url', seriesLimit: 3 });
    for (let i = 0; i < 10; i++) await app.inject(`/users/${i}`);
    const text = await scrape(app);
    const urls = new Set(samples(text, 'http_request_total').map((s) => s.labels.url));
    expect(urls).toEqual(new Set(['/users/0', '/users/1', '/users/2', '<overflow>']));
    expect(sampleValue(text, 'http_request_total', { url: '<overflow>' })).toBe(7);
  });

  it('prefix, static and per-request default labels, custom buckets', async () => {
    const { app } = await build({
      prefix: 'fastify',
      buckets: [0.1, 1],
      defaultLabels: { service: 'api', region: (req: { headers: Record<string, string> }) => req.headers['x-region'] },
    });
    await app.inject({ url: '/users/1', headers: { 'x-region': 'eu' } });
    await app.inject('/users/1');
    const text = await scrape(app);
    expect(sampleValue(text, 'fastify_http_request_total', { service: 'api', region: 'eu' })).toBe(1);
    expect(sampleValue(text, 'fastify_http_request_total', { service: 'api', region: '' })).toBe(1);
    expect(samples(text, 'fastify_http_request_duration_seconds_bucket').map((s) => s.labels.le)).toEqual([
      '0.1',
      '1',
      '+Inf',
      '0.1',
      '1',
      '+Inf',
    ]);
    expect(sampleValue(text, 'fastify_http_requests_in_progress', { method: 'GET', service: 'api' })).toBe(0);
    expect(sampleValue(text, 'fastify_exporter_info', { service: 'api' })).toBe(1);
  });

  it('a default label function that throws drops the observation and counts it; the response is untouched', async () => {
    const { app } = await build({
      defaultLabels: {
        tenant: () => {
          throw new Error('no tenant');
        },
      },
    });
    const res = await app.inject('/users/1');
    expect(res.statusCode).toBe(200);
    const text = await scrape(app);
    expect(sampleValue(text, 'exporter_label_errors_total', { metric: 'http_request_total' })).toBe(1);
    expect(samples(text, 'http_request_total')).toHaveLength(0);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('latencyAsHistogram: false records a summary', async () => {
    const { app } = await build({ latencyAsHistogram: false });
    await app.inject('/users/1');
    const text = await scrape(app);
    expect(text).toContain('# TYPE http_request_duration_seconds summary');
    expect(sampleValue(text, 'http_request_duration_seconds_count', { path: '/users/:id' })).toBe(1);
    expect(sampleValue(text, 'http_request_duration_seconds', { path: '/users/:id', quantile: '0.5' })).toBeGreaterThanOrEqual(0);
  });

  it('excludedPaths and route config opt-outs', async () => {
    const { app } = await build({ excludedPaths: ['/health', /^\/api\//] }, (a) => {
      a.get('/health', async () => 'ok');
      a.get('/quiet', { config: { metrics: { doNotTrack: true } } }, async () => 'ok');
      a.get('/silent', { config: { metrics: { excludeAll: true } } }, async () => 'ok');
    });
    await app.inject('/health');
    await app.inject('/api/v1/items/1');
    await app.inject('/quiet');
    await app.inject('/silent');
    await app.inject('/users/1');
    const text = await scrape(app);
    const paths = new Set(samples(text, 'http_request_total').map((s) => s.labels.path));
    expect(paths).toEqual(new Set(['/users/:id']));
  });

  it('exportDefaults: false records nothing but still serves', async () => {
    const { app } = await build({ exportDefaults: false });
    await app.inject('/users/1');
    const text = await scrape(app);
    expect(text).not.toContain('http_request_total');
    expect(text).toContain('exporter_label_errors_total');
  });

  it('a second instance on the same registry reuses the metrics', async () => {
    const registry = new Registry();
    const a = Fastify();
    const b = Fastify();
    apps.push(a, b);
    await a.register(fastifyMetrics, { registry, collectDefaultMetrics: false });
    await b.register(fastifyMetrics, { registry, collectDefaultMetrics: false });
    a.get('/x', async () => 'a');
    b.get('/x', async () => 'b');
    await a.inject('/x');
    await b.inject('/x');
    expect(sampleValue(await scrape(a), 'http_request_total', { path: '/x' })).toBe(2);
  });

  it('two instances that both see a request each record it, exception included', async () => {
    const outer = new Registry();
    const inner = new Registry();
    const app = Fastify();
    apps.push(app);
    await app.register(fastifyMetrics, { registry: outer, collectDefaultMetrics: false });
    await app.register(async (child) => {
      await child.register(fastifyMetrics, { registry: inner, collectDefaultMetrics: false, path: '/inner-metrics' });
      child.get('/fails', async () => {
        throw new Error('boom');
      });
    });
    expect((await app.inject('/fails')).statusCode).toBe(500);
    for (const registry of [outer, inner]) {
      const text = await registry.metrics();
      expect(sampleValue(text, 'http_request_total', { path: '/fails', status: '500' })).toBe(1);
      expect(sampleValue(text, 'http_request_exceptions_total', { path: '/fails', status: '500' })).toBe(1);
    }
  });
  it('process metrics are collected by default', async () => {
    const { app } = await build({ collectDefaultMetrics: true });
    expect(await scrape(app)).toContain('process_cpu_seconds_total');
  });
});

describe('fastify plugin: endpoint', () => {
  it('negotiates OpenMetrics, filters names, gzips, answers HEAD and refuses other methods', async () => {
    const { app } = await build();
    await app.inject('/users/1');
    const om = await app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(om.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.body).toContain('# TYPE http_request counter');
    expect(sampleValue(om.body, 'http_request_total', { path: '/users/:id' })).toBe(1);

    const text = await app.inject('/metrics');
    expect(text.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');

    const filtered = await scrape(app, '/metrics?name[]=http_request_total&name[]=exporter_info');
    expect(new Set(parseExposition(filtered).map((s) => s.name))).toEqual(new Set(['http_request_total', 'exporter_info']));

    const gz = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toContain('http_request_total');

    const head = await app.inject({ method: 'HEAD', url: '/metrics' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect((await app.inject({ method: 'POST', url: '/metrics' })).statusCode).toBe(405);
  });

  it('authorize: 401 without metrics, 200 with', async () => {
    const { app } = await build({
      authorize: async (req: { headers: Record<string, string> }) => req.headers.authorization === 'Bearer s3cret',
    });
    const denied = await app.inject('/metrics');
    expect(denied.statusCode).toBe(401);
    expect(denied.body).not.toContain('http_request');
    const ok = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer s3cret' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('exporter_info');
  });

  it('path: null serves nothing on the app; registerEndpoint and startHttpServer serve', async () => {
    const { app } = await build({ path: null }, (a) => {
      a.after(() => a.metrics.registerEndpoint('/internal/metrics'));
    });
    expect((await app.inject('/metrics')).statusCode).toBe(404);
    await app.inject('/users/1');
    expect(sampleValue((await app.inject('/internal/metrics')).body, 'http_request_total', { path: '/users/:id' })).toBe(1);
    const server = await app.metrics.startHttpServer(0, { host: '127.0.0.1' });
    const port = (server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('http_request_total');
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    await expect(app.metrics.startHttpServer(port, { host: '127.0.0.1' })).rejects.toThrow(/already in use/);
    server.close();
  });

  it('generateMetrics renders like prom-client', async () => {
    const { app, registry } = await build();
    await app.inject('/users/1');
    const { body, contentType } = await app.metrics.generateMetrics();
    expect(contentType).toContain('text/plain');
    expect(body).toBe(await registry.metrics());
  });
});

describe('fastify plugin: options', () => {
  it.each([
    [{ nope: 1 }, /option "nope"/],
    [{ path: 'metrics' }, /option "path"/],
    [{ buckets: [1, 0.5] }, /option "buckets"/],
    [{ prefix: 'bad-name' }, /option "prefix"/],
    [{ defaultLabels: { 'bad-label': 'x' } }, /option "defaultLabels"/],
    [{ groupBy: [() => 'x'][0] }, /option "groupBy"/],
    [{ seriesLimit: 0 }, /option "seriesLimit"/],
  ])('rejects %o at register', async (options, message) => {
    const app = Fastify();
    apps.push(app);
    await expect(app.register(fastifyMetrics, { registry: new Registry(), ...options } as never)).rejects.toThrow(message);
  });
});

describe('fastify plugin: real sockets', () => {
  async function listen(app: FastifyInstance) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    return (app.server.address() as AddressInfo).port;
  }

  it('records a client that went away first as 499 and keeps serving', async () => {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((r) => {
      arrived = r;
    });
    const { app } = await build({}, (a) => {
      a.get('/slow', async (_req, reply) => {
        arrived();
        await new Promise<void>((r) => {
          release = r;
        });
        return reply.send('late');
      });
    });
    const port = await listen(app);
    const req = httpRequest({ port, host: '127.0.0.1', path: '/slow' });
    req.on('error', () => {});
    req.end();
    await arrival;
    let text = await scrape(app);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(1);
    req.destroy();
    // The server sees the connection close a moment later: wait for it rather than for a fixed time.
    for (let i = 0; i < 100 && sampleValue(text, 'http_request_total', { path: '/slow', status: '499' }) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      text = await scrape(app);
    }
    release();
    await new Promise((r) => setTimeout(r, 50));
    text = await scrape(app);
    expect(sampleValue(text, 'http_request_total', { path: '/slow', status: '499' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/slow', status: '200' })).toBeUndefined();
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/users/1`)).status).toBe(200);
  });

  it('times a streamed response to its last byte', async () => {
    const { app } = await build({ buckets: [0.1, 0.3, 1] }, (a) => {
      a.get('/stream', async (_req, reply) => {
        const { Readable } = await import('node:stream');
        const stream = new Readable({ read() {} });
        stream.push('a');
        setTimeout(() => {
          stream.push('b');
          stream.push(null);
        }, 200);
        return reply.send(stream);
      });
    });
    const port = await listen(app);
    const res = await fetch(`http://127.0.0.1:${port}/stream`);
    expect(await res.text()).toBe('ab');
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_duration_seconds_bucket', { path: '/stream', le: '0.1' })).toBe(0);
    expect(sampleValue(text, 'http_request_duration_seconds_bucket', { path: '/stream', le: '1' })).toBe(1);
  });

  it('a malformed URL does not break the app', async () => {
    const { app } = await build();
    const port = await listen(app);
    const res = await fetch(`http://127.0.0.1:${port}/users/%E0%A4%A`);
    expect(res.status).toBeLessThan(500);
    expect((await fetch(`http://127.0.0.1:${port}/users/1`)).status).toBe(200);
    const text = await scrape(app);
    expect(parseExposition(text).filter((s) => s.name === 'http_request_total').length).toBeGreaterThan(0);
  });
});

describe('fastify 4', () => {
  it('records route templates under Fastify 4 too', async () => {
    const { app } = await build({}, undefined, Fastify4 as unknown as typeof Fastify);
    await app.inject('/users/7');
    expect(sampleValue(await scrape(app), 'http_request_total', { path: '/users/:id', status: '200' })).toBe(1);
  });
});
