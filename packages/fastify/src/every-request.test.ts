import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resetWarnings } from '@prom-http/core/internal';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import Fastify4 from 'fastify4';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { samples, sampleValue } from '../../../test/helpers/exposition.js';
import fastifyMetrics from './index.js';

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
  vi.restoreAllMocks();
});

function app(options: Record<string, unknown> = {}, factory: unknown = Fastify): FastifyInstance {
  const a = (factory as (o: Record<string, unknown>) => FastifyInstance)(options);
  apps.push(a);
  return a;
}

const plugin = (registry: Registry, options: Record<string, unknown> = {}) => ({ registry, collectDefaultMetrics: false, ...options });

async function listen(a: FastifyInstance): Promise<number> {
  await a.listen({ port: 0, host: '127.0.0.1' });
  return (a.server.address() as AddressInfo).port;
}

/** GET `path` as sent (no URL normalisation), the status. */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The auth, rate-limit and failing hooks of an app, added before the plugin. */
function earlyHooks(a: FastifyInstance): void {
  a.addHook('onRequest', async function auth(request: FastifyRequest, reply: FastifyReply) {
    if (request.headers['x-deny'] === 'auth') return reply.code(401).send({ error: 'unauthorized' });
    if (request.headers['x-deny'] === 'rate') return reply.code(429).send({ error: 'slow down' });
    if (request.headers['x-deny'] === 'throw') throw new Error('hook failed');
    if (request.headers['x-deny'] === 'slow') {
      await new Promise((r) => setTimeout(r, 150));
      return reply.code(401).send({ error: 'unauthorized, slowly' });
    }
  });
}

async function earlyHookApp(registry: Registry) {
  const a = app();
  earlyHooks(a);
  await a.register(fastifyMetrics, plugin(registry, { buckets: [0.1, 0.25, 1] }));
  a.get('/users/:id', async () => ({ ok: true }));
  a.get('/quiet', { config: { metrics: { doNotTrack: true } } }, async () => 'ok');
  a.get('/silent', { config: { metrics: { excludeAll: true } } }, async () => 'ok');
  await a.ready();
  return a;
}

describe('fastify: requests answered before the plugin sees them', () => {
  it('counts the 401, 429 and 500 of an onRequest hook added before the plugin (real server)', async () => {
    const registry = new Registry();
    const a = await earlyHookApp(registry);
    const port = await listen(a);
    expect(await get(port, '/users/1', { 'x-deny': 'auth' })).toBe(401);
    expect(await get(port, '/users/2', { 'x-deny': 'rate' })).toBe(429);
    expect(await get(port, '/users/3', { 'x-deny': 'throw' })).toBe(500);
    expect(await get(port, '/users/4')).toBe(200);
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_total', { method: 'GET', path: '/users/:id', status: '401' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/users/:id', status: '429' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/users/:id', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/users/:id', status: '200' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/users/:id', status: '500' })).toBe(1);
    expect(samples(text, 'http_request_exceptions_total')).toHaveLength(1);
    expect(samples(text, 'http_request_total').reduce((n, s) => n + s.value, 0)).toBe(4);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('counts them under inject too', async () => {
    const registry = new Registry();
    const a = await earlyHookApp(registry);
    expect((await a.inject({ url: '/users/1', headers: { 'x-deny': 'auth' } })).statusCode).toBe(401);
    expect((await a.inject({ url: '/users/3', headers: { 'x-deny': 'throw' } })).statusCode).toBe(500);
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_total', { path: '/users/:id', status: '401' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/users/:id', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/users/:id', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('times them from the arrival of the request', async () => {
    const registry = new Registry();
    const a = await earlyHookApp(registry);
    expect(await get(await listen(a), '/users/1', { 'x-deny': 'slow' })).toBe(401);
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_duration_seconds_bucket', { path: '/users/:id', status: '401', le: '0.1' })).toBe(0);
    expect(sampleValue(text, 'http_request_duration_seconds_bucket', { path: '/users/:id', status: '401', le: '0.25' })).toBe(1);
  });

  it('still honours doNotTrack, excludeAll and never records the metrics endpoint', async () => {
    const registry = new Registry();
    const a = await earlyHookApp(registry);
    const port = await listen(a);
    expect(await get(port, '/quiet', { 'x-deny': 'auth' })).toBe(401);
    expect(await get(port, '/silent', { 'x-deny': 'throw' })).toBe(500);
    expect(await get(port, '/quiet')).toBe(200);
    expect(await get(port, '/metrics', { 'x-deny': 'auth' })).toBe(401);
    expect(await get(port, '/metrics')).toBe(200);
    const text = (await a.inject('/metrics')).body;
    expect(samples(text, 'http_request_total')).toEqual([]);
    expect(samples(text, 'http_request_exceptions_total')).toEqual([]);
    // The scrape being answered is not in progress either.
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });
});

describe('fastify: requests rejected before routing', () => {
  it('records an undecodable URL (400) and an over-long parameter (414) as <unmatched>', async () => {
    const registry = new Registry();
    const a = app({ routerOptions: { maxParamLength: 10 } });
    await a.register(fastifyMetrics, plugin(registry));
    a.get('/users/:id', async () => ({ ok: true }));
    const port = await listen(a);
    expect(await get(port, '/users/%E0%A4%A')).toBe(400);
    expect(await get(port, `/users/${'x'.repeat(20)}`)).toBe(414);
    expect(await get(port, '/users/1')).toBe(200);
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_total', { method: 'GET', path: '<unmatched>', status: '400' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '<unmatched>', status: '414' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/users/:id', status: '200' })).toBe(1);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });
});

describe('fastify: which instance records what', () => {
  it('two apps in one process each record their own requests, once', async () => {
    const ra = new Registry();
    const rb = new Registry();
    const a = app();
    const b = app();
    for (const [x, r] of [
      [a, ra],
      [b, rb],
    ] as const) {
      earlyHooks(x);
      await x.register(fastifyMetrics, plugin(r));
      x.get('/x', async () => 'x');
    }
    const pa = await listen(a);
    const pb = await listen(b);
    await get(pa, '/x');
    await get(pa, '/x', { 'x-deny': 'auth' });
    await get(pb, '/x');
    await get(pb, '/%E0%A4%A');
    const ta = await ra.metrics();
    const tb = await rb.metrics();
    expect(samples(ta, 'http_request_total').map((s) => [s.labels.path, s.labels.status, s.value])).toEqual([
      ['/x', '200', 1],
      ['/x', '401', 1],
    ]);
    expect(samples(tb, 'http_request_total').map((s) => [s.labels.path, s.labels.status, s.value])).toEqual([
      ['/x', '200', 1],
      ['<unmatched>', '400', 1],
    ]);
  });

  it('a plugin in a child context records only the requests of that context', async () => {
    const outer = new Registry();
    const inner = new Registry();
    const a = app();
    await a.register(fastifyMetrics, plugin(outer));
    a.get('/root', async () => 'root');
    await a.register(
      async (child) => {
        earlyHooks(child);
        await child.register(fastifyMetrics, plugin(inner, { path: '/inner-metrics' }));
        child.get('/items/:id', async () => 'item');
      },
      { prefix: '/api' },
    );
    await a.register(async (sibling) => {
      sibling.get('/sibling', async () => 'sibling');
    });
    const port = await listen(a);
    await get(port, '/root');
    await get(port, '/sibling');
    await get(port, '/api/items/1');
    await get(port, '/api/items/2', { 'x-deny': 'auth' });
    await get(port, '/nowhere');
    await get(port, '/%E0%A4%A');
    const to = await outer.metrics();
    const ti = await inner.metrics();
    expect(samples(to, 'http_request_total').map((s) => [s.labels.path, s.labels.status, s.value])).toEqual([
      ['/root', '200', 1],
      ['/sibling', '200', 1],
      ['/api/items/:id', '200', 1],
      ['/api/items/:id', '401', 1],
      ['<unmatched>', '404', 1],
      ['<unmatched>', '400', 1],
    ]);
    expect(samples(ti, 'http_request_total').map((s) => [s.labels.path, s.labels.status, s.value])).toEqual([
      ['/api/items/:id', '200', 1],
      ['/api/items/:id', '401', 1],
    ]);
    for (const text of [to, ti]) expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
    // Each serves its own endpoint, which neither records.
    expect((await a.inject('/api/inner-metrics')).statusCode).toBe(200);
    expect((await a.inject('/metrics')).body).not.toContain('metrics"');
  });
});

describe('fastify: route templates from public hook points', () => {
  it('routes registered before the plugin, in a sibling context, and after it', async () => {
    for (const groupBy of ['path', 'endpoint'] as const) {
      const registry = new Registry();
      const a = app();
      a.get('/before/:id', async function beforeHandler() {
        return 'b';
      });
      a.register(
        async (sibling) => {
          sibling.get('/s/:id', async () => 's');
        },
        { prefix: '/sib' },
      );
      await a.register(fastifyMetrics, plugin(registry, { groupBy }));
      a.get('/after/:id', async function afterHandler() {
        return 'a';
      });
      a.get('/anonymous/:id', async () => 'a');
      await a.ready();
      for (const url of ['/before/1', '/before/2', '/sib/s/1', '/after/1', '/anonymous/1', '/nope']) await a.inject(url);
      const text = await registry.metrics();
      const got = Object.fromEntries(samples(text, 'http_request_total').map((s) => [s.labels[groupBy], s.value]));
      expect(got).toEqual(
        groupBy === 'path'
          ? { '/before/:id': 2, '/sib/s/:id': 1, '/after/:id': 1, '/anonymous/:id': 1, '<unmatched>': 1 }
          : { beforeHandler: 2, '/sib/s/:id': 1, afterHandler: 1, '/anonymous/:id': 1, '<unmatched>': 1 },
      );
    }
  });

  it('reads request.routeOptions at most once a request', async () => {
    const registry = new Registry();
    const a = app();
    let reads = 0;
    a.addHook('onRequest', function countRouteOptionsReads(request, _reply, done) {
      const proto = Object.getPrototypeOf(request);
      const descriptor =
        Object.getOwnPropertyDescriptor(proto, 'routeOptions') ??
        Object.getOwnPropertyDescriptor(Object.getPrototypeOf(proto), 'routeOptions');
      Object.defineProperty(request, 'routeOptions', {
        get() {
          reads++;
          return descriptor?.get?.call(this);
        },
      });
      done();
    });
    await a.register(fastifyMetrics, plugin(registry, { groupBy: 'endpoint' }));
    a.get('/r/:id', async () => 'r');
    await a.ready();
    await a.inject('/r/1');
    expect(reads).toBe(1);
    expect(sampleValue(await registry.metrics(), 'http_request_total', { endpoint: '/r/:id' })).toBe(1);
  });

  it('without request.routeOptions, still counts every request and warns once', async () => {
    resetWarnings('PROMHTTP_FASTIFY_NO_ROUTE_OPTIONS');
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const registry = new Registry();
    const a = app();
    a.addHook('onRequest', function hideRouteOptions(request, _reply, done) {
      Object.defineProperty(request, 'routeOptions', { value: undefined });
      done();
    });
    await a.register(fastifyMetrics, plugin(registry));
    a.get('/r/:id', async () => 'r');
    await a.ready();
    await a.inject('/r/1');
    await a.inject('/r/2');
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_total', { path: '<unmatched>', status: '200' })).toBe(2);
    const coded = warn.mock.calls.filter((c) => (c[1] as { code?: string } | undefined)?.code === 'PROMHTTP_FASTIFY_NO_ROUTE_OPTIONS');
    expect(coded).toHaveLength(1);
  });

  it('CORS preflight on an OPTIONS wildcard route (as @fastify/cors adds) is labelled with the wildcard', async () => {
    const registry = new Registry();
    const a = app();
    await a.register(fastifyMetrics, plugin(registry));
    a.options('*', async function preflight(_request, reply) {
      return reply.code(204).send();
    });
    a.get('/users/:id', async () => 'u');
    await a.ready();
    expect((await a.inject({ method: 'OPTIONS', url: '/users/1' })).statusCode).toBe(204);
    expect(sampleValue(await registry.metrics(), 'http_request_total', { method: 'OPTIONS', path: '*', status: '204' })).toBe(1);
  });
});

describe('fastify: registration', () => {
  it('a prefix that looks like a URL path is rejected, naming prefix and path', async () => {
    const a = app();
    await expect(a.register(fastifyMetrics, plugin(new Registry(), { prefix: '/api' }))).rejects.toThrow(
      /option "prefix" is the prefix of the default metric names, not a URL path: the route of the metrics is option "path"/,
    );
  });

  it("serves path under the plugin context's route prefix", async () => {
    const registry = new Registry();
    const a = app();
    await a.register(
      async (child) => {
        await child.register(fastifyMetrics, plugin(registry));
        child.get('/x', async () => 'x');
      },
      { prefix: '/api' },
    );
    await a.inject('/api/x');
    const res = await a.inject('/api/metrics');
    expect(res.statusCode).toBe(200);
    expect(sampleValue(res.body, 'http_request_total', { path: '/api/x' })).toBe(1);
    expect((await a.inject('/metrics')).statusCode).toBe(404);
  });

  it('names the likely cause when fastify.metrics is already decorated', async () => {
    const a = app();
    await a.register(
      fp(async function otherMetricsPlugin(instance) {
        // Another plugin's own `metrics`, whatever its shape.
        (instance.decorate as (this: unknown, name: string, value: unknown) => void).call(instance, 'metrics', { counter() {} });
      }),
    );
    const registering = a.register(fastifyMetrics, plugin(new Registry()));
    await expect(registering).rejects.toThrow(TypeError);
    await expect(registering).rejects.toThrow(/already decorated.*fastify-metrics.*name: 'oldMetrics'.*another encapsulation context/);
    await expect(registering).rejects.toMatchObject({ cause: { code: 'FST_ERR_DEC_ALREADY_PRESENT' } });
  });

  it('app.close() closes the servers of startHttpServer', async () => {
    const a = app();
    await a.register(fastifyMetrics, plugin(new Registry(), { path: null }));
    await a.ready();
    const server = await a.metrics.startHttpServer(0, { host: '127.0.0.1' });
    const port = (server.address() as AddressInfo).port;
    expect(await get(port, '/metrics')).toBe(200);
    await a.close();
    expect(server.listening).toBe(false);
    await expect(get(port, '/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('fastify 4', () => {
  it('counts an early hook answer and a rejected URL, with route templates', async () => {
    const registry = new Registry();
    const a = app({}, Fastify4);
    earlyHooks(a);
    await a.register(fastifyMetrics, plugin(registry));
    a.get('/users/:id', async () => ({ ok: true }));
    const port = await listen(a);
    expect(await get(port, '/users/1', { 'x-deny': 'auth' })).toBe(401);
    expect(await get(port, '/users/2')).toBe(200);
    expect(await get(port, '/%E0%A4%A')).toBe(400);
    expect((await a.inject({ url: '/users/3', headers: { 'x-deny': 'throw' } })).statusCode).toBe(500);
    const text = await registry.metrics();
    expect(samples(text, 'http_request_total').map((s) => [s.labels.path, s.labels.status, s.value])).toEqual([
      ['/users/:id', '401', 1],
      ['/users/:id', '200', 1],
      ['<unmatched>', '400', 1],
      ['/users/:id', '500', 1],
    ]);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/users/:id', status: '500' })).toBe(1);
  });
});
