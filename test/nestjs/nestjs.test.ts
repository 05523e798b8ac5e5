import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../helpers/client.js';
import { samples, sampleValue } from '../helpers/exposition.js';
import { RequestMethod, startApp } from './app.mjs';

// prom-http in a NestJS app, on both of Nest's platforms, as docs/nestjs.md sets it up: the route label is the
// template Nest registers (controller prefix + method path), and the exceptions Nest's own exception layer
// catches are counted through the exception filter that docs/nestjs.md gives to copy.

type Platform = 'express' | 'fastify';
type Started = Awaited<ReturnType<typeof startApp>>;

const apps: Started['app'][] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function start(platform: Platform, options: Omit<Parameters<typeof startApp>[1], 'registry'> = {}) {
  const registry = new Registry();
  const started = await startApp(platform, { registry, ...options });
  apps.push(started.app);
  return { registry, url: started.url };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, { headers });
  await response.arrayBuffer();
  return response.status;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return response.text();
}

const series = (path: string, status: string) => ({ method: 'GET', path, status });

describe.each<Platform>(['express', 'fastify'])('NestJS on %s', (platform) => {
  it('labels requests with the route as Nest registers it, and serves the metrics endpoint unrecorded', async () => {
    const { url } = await start(platform);
    expect(await get(`${url}/users/7`)).toBe(200);
    expect(await get(`${url}/users/8`)).toBe(200);
    expect(await get(`${url}/no/such/page`)).toBe(404);
    await scrape(url);
    const text = await scrape(url);
    expect(samples(text, 'http_request_total').map((s) => [s.labels.path, s.labels.status, s.value])).toEqual(
      expect.arrayContaining([
        ['/users/:id', '200', 2],
        ['<unmatched>', '404', 1],
      ]),
    );
    expect(samples(text, 'http_request_total')).toHaveLength(2);
    expect(sampleValue(text, 'http_request_duration_seconds_count', series('/users/:id', '200'))).toBe(2);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('counts an exception that Nest catches, through the exception filter: thrown by the handler or by a guard', async () => {
    const { url } = await start(platform);
    expect(await get(`${url}/users/7/crash`)).toBe(500);
    expect(await get(`${url}/users/7/crash`)).toBe(500);
    expect(await get(`${url}/users/7/guarded`)).toBe(500);
    const text = await scrape(url);
    expect(sampleValue(text, 'http_request_exceptions_total', series('/users/:id/crash', '500'))).toBe(2);
    expect(sampleValue(text, 'http_request_total', series('/users/:id/crash', '500'))).toBe(2);
    expect(sampleValue(text, 'http_request_exceptions_total', series('/users/:id/guarded', '500'))).toBe(1);
  });

  it("counts Nest's HttpException with a 4xx status (NotFoundException) and its 404 for an unknown URL as client errors, not exceptions", async () => {
    const { url } = await start(platform);
    expect(await get(`${url}/users/7/orders/9`)).toBe(404);
    expect(await get(`${url}/nowhere`)).toBe(404);
    const text = await scrape(url);
    expect(sampleValue(text, 'http_request_total', series('/users/:id/orders/:orderId', '404'))).toBe(1);
    expect(sampleValue(text, 'http_request_total', series('<unmatched>', '404'))).toBe(1);
    expect(samples(text, 'http_request_exceptions_total')).toEqual([]);
  });

  it("without the filter, Nest's exception layer hides the exception: the request is counted with its 500 alone", async () => {
    const { url } = await start(platform, { filter: false });
    expect(await get(`${url}/users/7/crash`)).toBe(500);
    const text = await scrape(url);
    expect(sampleValue(text, 'http_request_total', series('/users/:id/crash', '500'))).toBe(1);
    expect(samples(text, 'http_request_exceptions_total')).toEqual([]);
  });

  it("puts Nest's global prefix and URI version in the route label; the metrics endpoint stays at /metrics", async () => {
    const { url } = await start(platform, { globalPrefix: 'api', uriVersion: '2' });
    expect(await get(`${url}/api/v2/users/7`)).toBe(200);
    expect(await get(`${url}/api/v2/users/7/crash`)).toBe(500);
    expect(await get(`${url}/api/metrics`)).toBe(404);
    const text = await scrape(url);
    expect(sampleValue(text, 'http_request_total', series('/api/v2/users/:id', '200'))).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', series('/api/v2/users/:id/crash', '500'))).toBe(1);
    // Nest answers an unknown URL under the prefix from a route of its own on Express (`<prefix>/*path`), with
    // Fastify's not-found handler on Fastify: one bounded label value either way.
    expect(sampleValue(text, 'http_request_total', series(platform === 'express' ? '/api/*path' : '<unmatched>', '404'))).toBe(1);
    expect(await get(`${url}/outside/the/prefix`)).toBe(404);
    const after = await scrape(url);
    expect(sampleValue(after, 'http_request_total', series('<unmatched>', '404'))).toBe(platform === 'express' ? 1 : 2);
  });

  it('records a custom counter registered for every request, with labels read from the request', async () => {
    const { url } = await start(platform, {
      configure(m) {
        m.registerDefault(
          m.counter('tenant_requests_total', 'Requests by tenant', {
            labels: { tenant: (req: { headers: Record<string, string | undefined> }) => req.headers['x-tenant'] ?? 'none' },
          }),
        );
      },
    });
    expect(await get(`${url}/users/7`, { 'x-tenant': 'acme' })).toBe(200);
    expect(await get(`${url}/users/7/crash`, { 'x-tenant': 'acme' })).toBe(500);
    expect(await get(`${url}/users/8`)).toBe(200);
    const text = await scrape(url);
    expect(sampleValue(text, 'tenant_requests_total', { tenant: 'acme' })).toBe(2);
    expect(sampleValue(text, 'tenant_requests_total', { tenant: 'none' })).toBe(1);
  });
});

describe('NestJS on express: a custom metric wrapper as Nest middleware', () => {
  it('counts the requests of the routes it is applied to, with labels from the route parameters', async () => {
    const { url } = await start('express', {
      configure(m, consumer) {
        const reads = m.counter('user_reads_total', 'Reads by user', {
          labels: { user: (req: { params: Record<string, string> }) => req.params.id },
        });
        consumer?.apply(reads).forRoutes({ path: 'users/:id', method: RequestMethod.GET });
      },
    });
    expect(await get(`${url}/users/7`)).toBe(200);
    expect(await get(`${url}/users/7`)).toBe(200);
    expect(await get(`${url}/users/8`)).toBe(200);
    expect(await get(`${url}/users/8/crash`)).toBe(500);
    const text = await scrape(url);
    expect(samples(text, 'user_reads_total').map((s) => [s.labels.user, s.value])).toEqual([
      ['7', 2],
      ['8', 1],
    ]);
  });
});
