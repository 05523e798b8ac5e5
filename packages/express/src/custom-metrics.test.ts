import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { sampleValue } from '../../../test/helpers/exposition.js';
import { type ExpressMetricsOptions, metrics } from './index.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  vi.restoreAllMocks();
});

function build(options: ExpressMetricsOptions = {}) {
  const app = express();
  const m = metrics({ registry: new Registry(), collectDefaultMetrics: false, ...options });
  app.use(m);
  return { app, m };
}
const scrape = async (app: express.Express) => (await request(app).get('/metrics')).text;

describe('express custom metrics', () => {
  it("the flask exporter's collection example, as wrapper and as route middleware", async () => {
    const { app, m } = build();
    const byCollection = m.counter('cnt_collection', 'Number of invocations per collection', {
      labels: { collection: (req) => req.params.collection_id, status: (_req, res) => res.statusCode },
    });
    app.get(
      '/collection/:collection_id/item/:item_id',
      byCollection((req, res) => {
        res.json({ item: req.params.item_id });
      }),
    );
    app.get('/collection2/:collection_id', byCollection, (_req, res) => {
      res.status(201).json({});
    });
    await request(app).get('/collection/10002/item/76');
    await request(app).get('/collection2/7');
    const text = await scrape(app);
    expect(sampleValue(text, 'cnt_collection', { collection: '10002', status: '200' })).toBe(1);
    expect(sampleValue(text, 'cnt_collection', { collection: '7', status: '201' })).toBe(1);
  });

  it('histogram and summary time from wrapper entry to the finish', async () => {
    const { app, m } = build();
    const hist = m.histogram('item_seconds', 'Item latency', { buckets: [0.05, 0.5] });
    const summ = m.summary('item_summary_seconds', 'Item latency', { percentiles: [0.5] });
    app.get('/slow', hist, summ, (_req, res) => {
      setTimeout(() => res.send('ok'), 100);
    });
    await request(app).get('/slow');
    const text = await scrape(app);
    expect(sampleValue(text, 'item_seconds_bucket', { le: '0.05' })).toBe(0);
    expect(sampleValue(text, 'item_seconds_bucket', { le: '0.5' })).toBe(1);
    expect(sampleValue(text, 'item_summary_seconds', { quantile: '0.5' })).toBeGreaterThanOrEqual(0.09);
  });

  it('gauge goes up on entry and down at the finish, labels evaluated on entry', async () => {
    const { app, m } = build();
    let release: () => void = () => {};
    const gauge = m.gauge('busy', 'Requests busy', { labels: { kind: (req) => String(req.query.k) } });
    app.get(
      '/work',
      gauge((_req, res) => {
        release = () => res.send('ok');
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const pending = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/work?k=a`);
    await new Promise((r) => setTimeout(r, 80));
    expect(sampleValue(await scrape(app), 'busy', { kind: 'a' })).toBe(1);
    release();
    await (await pending).text();
    await new Promise((r) => setTimeout(r, 20));
    expect(sampleValue(await scrape(app), 'busy', { kind: 'a' })).toBe(0);
  });

  it('exports series with only static labels at 0 from creation, unless told not to', async () => {
    const { app, m } = build({ defaultLabels: { service: 'api' } });
    m.counter('static_total', 'Static', { labels: { team: 'core' } });
    m.counter('quiet_total', 'Quiet', { labels: { team: 'core' }, initialValueWhenOnlyStaticLabels: false });
    const text = await scrape(app);
    expect(sampleValue(text, 'static_total', { team: 'core', service: 'api' })).toBe(0);
    expect(sampleValue(text, 'quiet_total')).toBeUndefined();
  });

  it('reuses a metric of the same type and labels; other clashes throw naming it', () => {
    const { m } = build();
    m.counter('reads_total', 'Reads', { labels: { kind: 'a' } });
    expect(() => m.counter('reads_total', 'Reads', { labels: { kind: 'b' } })).not.toThrow();
    expect(() => m.histogram('reads_total', 'Reads', { labels: { kind: 'a' } })).toThrow(/reads_total/);
    expect(() => m.counter('c_total', 'C', { buckets: [1] } as never)).toThrow(/"buckets"/);
  });

  it('a label function that throws leaves the response untouched and is counted', async () => {
    const { app, m } = build();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const broken = m.histogram('broken_seconds', 'Broken', {
      labels: {
        x: () => {
          throw new Error('no x');
        },
      },
    });
    app.get(
      '/broken',
      broken((_req, res) => {
        res.send('fine');
      }),
    );
    expect((await request(app).get('/broken')).text).toBe('fine');
    expect((await request(app).get('/broken')).text).toBe('fine');
    const text = await scrape(app);
    expect(sampleValue(text, 'exporter_label_errors_total', { metric: 'broken_seconds' })).toBe(2);
    expect(sampleValue(text, 'broken_seconds_count')).toBeUndefined();
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('broken_seconds'))).toHaveLength(1);
  });

  it('info, doNotTrack, excludeAllMetrics and registerDefault', async () => {
    const { app, m } = build({ excludedPaths: '/health' });
    m.info('app_info', 'Application', { version: '1.2.3' });
    const every = m.counter('every_total', 'Every request', { labels: { status: (_r, res) => res.statusCode } });
    m.registerDefault(every);
    const custom = m.counter('custom_total', 'Custom');
    app.get('/quiet', m.doNotTrack(), custom, (_req, res) => {
      res.send('q');
    });
    app.get(
      '/gone',
      m.excludeAllMetrics()(
        custom((_req, res) => {
          res.send('g');
        }),
      ),
    );
    app.get('/health', (_req, res) => {
      res.send('ok');
    });
    app.get('/x', (_req, res) => {
      res.send('x');
    });
    for (const url of ['/quiet', '/gone', '/health', '/x', '/nope']) await request(app).get(url);
    const text = await scrape(app);
    expect(sampleValue(text, 'app_info', { version: '1.2.3' })).toBe(1);
    expect(sampleValue(text, 'custom_total')).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/quiet' })).toBeUndefined();
    expect(sampleValue(text, 'http_request_total', { path: '/gone' })).toBeUndefined();
    expect(sampleValue(text, 'http_request_total', { path: '/x' })).toBe(1);
    expect(sampleValue(text, 'every_total', { status: '200' })).toBe(2);
    expect(sampleValue(text, 'every_total', { status: '404' })).toBe(1);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
    expect(() => m.registerDefault((() => {}) as never)).toThrow(TypeError);
  });

  it('excludeUserDefaults: false keeps custom metrics on excluded paths', async () => {
    const { app, m } = build({ excludedPaths: '/health', excludeUserDefaults: false });
    const c = m.counter('health_total', 'Health checks');
    app.get('/health', c, (_req, res) => {
      res.send('ok');
    });
    await request(app).get('/health');
    const text = await scrape(app);
    expect(sampleValue(text, 'health_total')).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/health' })).toBeUndefined();
  });

  it('a wrapper on an app without the middleware still records its own metric', async () => {
    const app = express();
    const m = metrics({ registry: new Registry(), collectDefaultMetrics: false, path: null });
    const c = m.counter('lonely_total', 'Lonely');
    app.get('/x', c, (_req, res) => {
      res.send('x');
    });
    await request(app).get('/x');
    expect(sampleValue((await m.generateMetrics()).body, 'lonely_total')).toBe(1);
  });

  it('a wrapped handler keeps its name for groupBy endpoint', async () => {
    const { app, m } = build({ groupBy: 'endpoint' });
    const c = m.counter('n_total', 'N');
    app.get(
      '/n',
      c(function showItem(_req, res) {
        res.send('n');
      }),
    );
    await request(app).get('/n');
    expect(sampleValue(await scrape(app), 'http_request_total', { endpoint: 'showItem' })).toBe(1);
  });
});
