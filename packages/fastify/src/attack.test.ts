// Counting under attack and misuse, through the Fastify plugin as an app uses it: series bounded under
// url x method traffic, label values that are not values, the in-progress gauge across a reset, a second
// instance with other options, and Accept headers that refuse OpenMetrics.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { samples, sampleValue } from '../../../test/helpers/exposition.js';
import fastifyMetrics from './index.js';

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

async function build(options: Record<string, unknown> = {}, registry = new Registry()) {
  const app = Fastify();
  apps.push(app);
  await app.register(fastifyMetrics, { registry, collectDefaultMetrics: false, ...options });
  return { app, registry };
}

describe('Fastify under attack', () => {
  it('keeps http_request_total at seriesLimit plus one overflow series per method and status under url x method traffic', async () => {
    const { app, registry } = await build({
      groupBy: 'url',
      seriesLimit: 10,
      defaultLabels: { ua: (req: { headers: Record<string, string> }) => req.headers['user-agent'] },
    });
    app.all('/*', async (req, reply) => reply.code(req.method === 'GET' ? 200 : 201).send());
    const methods = ['GET', 'POST', 'PUT', 'DELETE'] as const;
    let sent = 0;
    for (let i = 0; i < 40; i++) {
      for (const method of methods) {
        const res = await app.inject({ method, url: `/p/${i}`, headers: { 'user-agent': `bot-${i}-${method}` } });
        expect(res.statusCode).toBe(method === 'GET' ? 200 : 201);
        sent++;
      }
    }
    const total = samples(await registry.metrics(), 'http_request_total');
    const overflow = total.filter((s) => s.labels.url === '<overflow>');
    expect(total.length - overflow.length).toBe(10);
    expect(overflow.map((s) => `${s.labels.method} ${s.labels.status}`).sort()).toEqual(['DELETE 201', 'GET 200', 'POST 201', 'PUT 201']);
    expect(overflow.every((s) => s.labels.ua === '<overflow>')).toBe(true);
    expect(total.reduce((a, s) => a + s.value, 0)).toBe(sent);
  });

  it('drops an observation whose label function returns a promise, counts it, and answers the request', async () => {
    const { app, registry } = await build({ defaultLabels: { tenant: async () => 'acme' } });
    app.get(
      '/a',
      app.metrics.counter('reads_total', 'Reads', { labels: { who: () => ({ id: 1 }) as unknown as string } })(async () => 'ok'),
    );
    const res = await app.inject('/a');
    expect([res.statusCode, res.body]).toEqual([200, 'ok']);
    const text = await registry.metrics();
    expect(text).not.toContain('[object');
    expect(samples(text, 'http_request_total')).toEqual([]);
    expect(sampleValue(text, 'exporter_label_errors_total', { metric: 'http_request_total' })).toBe(1);
    expect(sampleValue(text, 'exporter_label_errors_total', { metric: 'reads_total' })).toBe(1);
  });

  it('keeps http_requests_in_progress at zero or above when the registry is reset with requests in flight', async () => {
    const { app, registry } = await build();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = 0;
    app.get('/slow', async () => {
      entered++;
      await gate;
      return 'done';
    });
    const inFlight = Array.from({ length: 5 }, () => app.inject('/slow').then((r) => r.body));
    while (entered < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sampleValue(await registry.metrics(), 'http_requests_in_progress', { method: 'GET' })).toBe(5);
    registry.resetMetrics();
    release();
    expect(await Promise.all(inFlight)).toEqual(Array(5).fill('done'));
    expect(sampleValue(await registry.metrics(), 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('refuses a second app on the same registry with another seriesLimit, rather than keeping the first', async () => {
    const { registry } = await build({ seriesLimit: 100 });
    const second = Fastify();
    apps.push(second);
    await expect(second.register(fastifyMetrics, { registry, collectDefaultMetrics: false, seriesLimit: 5 })).rejects.toThrow(
      /another "seriesLimit" \(100 there, 5 here\)/,
    );
  });

  it('answers the text format when the Accept header refuses OpenMetrics, and OpenMetrics in any case', async () => {
    const { app } = await build();
    const refused = await app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text;q=0, text/plain' } });
    expect(refused.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const named = await app.inject({ url: '/metrics', headers: { accept: 'Application/OpenMetrics-Text' } });
    expect(named.headers['content-type']).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(named.body.endsWith('# EOF\n')).toBe(true);
  });
});
