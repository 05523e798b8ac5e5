// Counting under attack and misuse, through the Express middleware as an app uses it: series bounded under
// url x method traffic, label values that are not values, the in-progress gauge across a reset, a second
// instance with other options, and Accept headers that refuse OpenMetrics.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { samples, sampleValue } from '../../../test/helpers/exposition.js';
import { type ExpressMetricsOptions, metrics } from './index.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

function build(options: ExpressMetricsOptions = {}) {
  const registry = new Registry();
  const app = express();
  const m = metrics({ registry, collectDefaultMetrics: false, ...options });
  app.use(m);
  return { app, m, registry };
}

const scrape = async (registry: Registry) => registry.metrics();

describe('Express under attack', () => {
  it('keeps http_request_total at seriesLimit plus one overflow series per method and status under url x method traffic', async () => {
    const { app, registry } = build({ groupBy: 'url', seriesLimit: 10, defaultLabels: { ua: (req) => req.get('user-agent') } });
    app.all('/*splat', (req, res) => {
      res.status(req.method === 'GET' ? 200 : 201).end();
    });
    const agent = request(app);
    const methods = ['get', 'post', 'put', 'delete'] as const;
    let sent = 0;
    for (let i = 0; i < 40; i++) {
      for (const method of methods) {
        await agent[method](`/p/${i}`)
          .set('user-agent', `bot-${i}-${method}`)
          .expect(method === 'get' ? 200 : 201);
        sent++;
      }
    }
    const total = samples(await scrape(registry), 'http_request_total');
    const overflow = total.filter((s) => s.labels.url === '<overflow>');
    expect(total.length - overflow.length).toBe(10);
    expect(overflow.map((s) => `${s.labels.method} ${s.labels.status}`).sort()).toEqual(['DELETE 201', 'GET 200', 'POST 201', 'PUT 201']);
    expect(overflow.every((s) => s.labels.ua === '<overflow>')).toBe(true);
    expect(total.reduce((a, s) => a + s.value, 0)).toBe(sent);
  });

  it('drops an observation whose label function returns a promise, counts it, and answers the request', async () => {
    const { app, m, registry } = build({ defaultLabels: { tenant: (async () => 'acme') as unknown as () => string } });
    app.get(
      '/a',
      m.counter('reads_total', 'Reads', { labels: { who: () => ({ id: 1 }) as unknown as string } })((_req, res) => {
        res.send('ok');
      }),
    );
    await request(app).get('/a').expect(200, 'ok');
    const text = await scrape(registry);
    expect(text).not.toContain('[object');
    expect(samples(text, 'http_request_total')).toEqual([]);
    expect(sampleValue(text, 'exporter_label_errors_total', { metric: 'http_request_total' })).toBe(1);
    expect(sampleValue(text, 'exporter_label_errors_total', { metric: 'reads_total' })).toBe(1);
  });

  it('keeps http_requests_in_progress at zero or above when the registry is reset with requests in flight', async () => {
    const { app, registry } = build();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = 0;
    app.get('/slow', async (_req, res) => {
      entered++;
      await gate;
      res.send('done');
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const inFlight = Array.from({ length: 5 }, () => fetch(`http://127.0.0.1:${port}/slow`).then((r) => r.text()));
    while (entered < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sampleValue(await scrape(registry), 'http_requests_in_progress', { method: 'GET' })).toBe(5);
    registry.resetMetrics();
    release();
    expect(await Promise.all(inFlight)).toEqual(Array(5).fill('done'));
    expect(sampleValue(await scrape(registry), 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('refuses a second app on the same registry with other defaultLabels, rather than recording it under the first', () => {
    const registry = new Registry();
    metrics({ registry, collectDefaultMetrics: false, defaultLabels: { app: 'public' } });
    expect(() => metrics({ registry, collectDefaultMetrics: false, defaultLabels: { app: 'admin' } })).toThrow(
      /another "defaultLabels" \(\{"app":"public"\} there, \{"app":"admin"\} here\)/,
    );
  });

  it('answers the text format when the Accept header refuses OpenMetrics, and OpenMetrics in any case', async () => {
    const { app } = build();
    const refused = await request(app).get('/metrics').set('accept', 'application/openmetrics-text;q=0, text/plain');
    expect(refused.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const named = await request(app).get('/metrics').set('accept', 'Application/OpenMetrics-Text');
    expect(named.headers['content-type']).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(named.text.endsWith('# EOF\n')).toBe(true);
  });
});
