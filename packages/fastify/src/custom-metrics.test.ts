import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { sampleValue } from '../../../test/helpers/exposition.js';
import fastifyMetrics from './index.js';

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
  vi.restoreAllMocks();
});

async function build(options: Record<string, unknown> = {}) {
  const registry = new Registry();
  const app = Fastify();
  apps.push(app);
  await app.register(fastifyMetrics, { registry, collectDefaultMetrics: false, ...options });
  return { app, registry };
}

const scrape = async (app: FastifyInstance) => (await app.inject('/metrics')).body;

describe('fastify custom metrics', () => {
  it("the flask exporter's collection example", async () => {
    const { app } = await build();
    const byCollection = app.metrics.counter('cnt_collection', 'Number of invocations per collection', {
      labels: {
        collection: (req) => (req.params as { collection_id: string }).collection_id,
        status: (_req, reply) => reply.statusCode,
      },
    });
    app.get(
      '/collection/:collection_id/item/:item_id',
      byCollection(async (req) => ({ item: (req.params as { item_id: string }).item_id })),
    );
    await app.ready();
    await app.inject('/collection/10002/item/76');
    expect(sampleValue(await scrape(app), 'cnt_collection', { collection: '10002', status: '200' })).toBe(1);
  });

  it('histogram and summary time from wrapper entry to the finish; prom-client settings pass through', async () => {
    const { app } = await build();
    const hist = app.metrics.histogram('item_seconds', 'Item latency', { buckets: [0.05, 0.5] });
    const summ = app.metrics.summary('item_summary_seconds', 'Item latency', { percentiles: [0.5] });
    app.get(
      '/slow',
      hist(
        summ(async () => {
          await new Promise((r) => setTimeout(r, 100));
          return 'ok';
        }),
      ),
    );
    await app.ready();
    await app.inject('/slow');
    const text = await scrape(app);
    expect(sampleValue(text, 'item_seconds_bucket', { le: '0.05' })).toBe(0);
    expect(sampleValue(text, 'item_seconds_bucket', { le: '0.5' })).toBe(1);
    expect(sampleValue(text, 'item_summary_seconds_count')).toBe(1);
    expect(sampleValue(text, 'item_summary_seconds', { quantile: '0.5' })).toBeGreaterThanOrEqual(0.09);
  });

  it('gauge goes up on entry and down at the finish, labels evaluated on entry', async () => {
    const { app } = await build();
    let release: () => void = () => {};
    const gauge = app.metrics.gauge('busy', 'Requests busy', { labels: { kind: (req) => (req.query as { k: string }).k } });
    app.get(
      '/work',
      gauge(async () => {
        await new Promise<void>((r) => {
          release = r;
        });
        return 'ok';
      }),
    );
    await app.ready();
    const pending = app.inject('/work?k=a');
    await new Promise((r) => setTimeout(r, 50));
    expect(sampleValue(await scrape(app), 'busy', { kind: 'a' })).toBe(1);
    release();
    await pending;
    expect(sampleValue(await scrape(app), 'busy', { kind: 'a' })).toBe(0);
  });

  it('exports series with only static labels at 0 from creation, unless told not to', async () => {
    const { app } = await build({ defaultLabels: { service: 'api' } });
    app.metrics.counter('static_total', 'Static', { labels: { team: 'core' } });
    app.metrics.counter('quiet_total', 'Quiet', { labels: { team: 'core' }, initialValueWhenOnlyStaticLabels: false });
    app.metrics.histogram('plain_seconds', 'Plain');
    await app.ready();
    const text = await scrape(app);
    expect(sampleValue(text, 'static_total', { team: 'core', service: 'api' })).toBe(0);
    expect(sampleValue(text, 'quiet_total')).toBeUndefined();
    expect(sampleValue(text, 'plain_seconds_count', { service: 'api' })).toBe(0);
  });

  it('reuses a metric of the same type and labels; any other clash throws naming it', async () => {
    const { app } = await build();
    const a = app.metrics.counter('reads_total', 'Reads', { labels: { kind: 'a' } });
    const b = app.metrics.counter('reads_total', 'Reads', { labels: { kind: 'b' } });
    expect(() => app.metrics.gauge('reads_total', 'Reads', { labels: { kind: 'a' } })).toThrow(/reads_total/);
    expect(() => app.metrics.counter('reads_total', 'Reads', { labels: { other: 'a' } })).toThrow(TypeError);
    expect(() => app.metrics.counter('bad-name', 'x')).toThrow(/name/);
    app.get(
      '/a',
      a(async () => 'a'),
    );
    app.get(
      '/b',
      b(async () => 'b'),
    );
    app.get(
      '/a2',
      a(async () => 'a2'),
    );
    await app.ready();
    await app.inject('/a');
    await app.inject('/a2');
    await app.inject('/b');
    const text = await scrape(app);
    expect(sampleValue(text, 'reads_total', { kind: 'a' })).toBe(2);
    expect(sampleValue(text, 'reads_total', { kind: 'b' })).toBe(1);
  });

  it('a label function that throws drops the observation, warns once and counts it', async () => {
    const { app } = await build();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const broken = app.metrics.counter('broken_total', 'Broken', {
      labels: {
        x: () => {
          throw new Error('no x');
        },
      },
    });
    app.get(
      '/broken',
      broken(async () => 'fine'),
    );
    await app.ready();
    const res1 = await app.inject('/broken');
    const res2 = await app.inject('/broken');
    expect([res1.statusCode, res1.body, res2.body]).toEqual([200, 'fine', 'fine']);
    const text = await scrape(app);
    expect(sampleValue(text, 'exporter_label_errors_total', { metric: 'broken_total' })).toBe(2);
    expect(sampleValue(text, 'broken_total')).toBeUndefined();
    expect(sampleValue(text, 'http_request_total', { path: '/broken' })).toBe(2);
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('broken_total'))).toHaveLength(1);
  });

  it('info, doNotTrack, excludeAllMetrics and registerDefault', async () => {
    const { app } = await build({ excludedPaths: '/health' });
    const info = app.metrics.info('app_info', 'Application', { version: '1.2.3' });
    const everything = app.metrics.counter('every_total', 'Every request', { labels: { status: (_r, reply) => reply.statusCode } });
    app.metrics.registerDefault(everything);
    const custom = app.metrics.counter('custom_total', 'Custom');
    app.get('/quiet', app.metrics.doNotTrack()(custom(async () => 'q')));
    app.get('/gone', app.metrics.excludeAllMetrics()(custom(async () => 'g')));
    app.get('/health', async () => 'ok');
    app.get('/x', async () => 'x');
    await app.ready();
    for (const url of ['/quiet', '/gone', '/health', '/x', '/nope']) await app.inject(url);
    const text = await scrape(app);
    expect(sampleValue(text, 'app_info', { version: '1.2.3' })).toBe(1);
    expect(sampleValue(text, 'custom_total')).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/quiet' })).toBeUndefined();
    expect(sampleValue(text, 'http_request_total', { path: '/gone' })).toBeUndefined();
    expect(sampleValue(text, 'http_request_total', { path: '/x' })).toBe(1);
    // registerDefault: /quiet, /x and /nope (404); not /gone, /health (excluded) or /metrics.
    expect(sampleValue(text, 'every_total', { status: '200' })).toBe(2);
    expect(sampleValue(text, 'every_total', { status: '404' })).toBe(1);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
    // info() gives the series itself.
    info.set(3);
    expect(sampleValue(await scrape(app), 'app_info', { version: '1.2.3' })).toBe(3);
  });

  it('excludeUserDefaults: false keeps custom metrics on excluded paths', async () => {
    const { app } = await build({ excludedPaths: '/health', excludeUserDefaults: false });
    const c = app.metrics.counter('health_total', 'Health checks');
    app.get(
      '/health',
      c(async () => 'ok'),
    );
    await app.ready();
    await app.inject('/health');
    const text = await scrape(app);
    expect(sampleValue(text, 'health_total')).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/health' })).toBeUndefined();
  });

  it('a label reading the reply sees the status of a client that went away (499)', async () => {
    const { app } = await build();
    const c = app.metrics.counter('slow_total', 'Slow', {
      labels: { status: (_r, reply) => (reply.raw.writableEnded ? reply.statusCode : 499) },
    });
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const reached = new Promise<void>((r) => {
      entered = r;
    });
    app.get(
      '/slow',
      c(async () => {
        entered();
        await new Promise<void>((r) => {
          release = r;
        });
        return 'late';
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const controller = new AbortController();
    const pending = fetch(`http://127.0.0.1:${port}/slow`, { signal: controller.signal }).catch(() => undefined);
    await reached;
    controller.abort();
    await pending;
    // The server learns of the close when its socket does: no fixed wait, which a loaded machine outruns.
    await vi.waitFor(async () => {
      const text = await scrape(app);
      expect(sampleValue(text, 'http_request_total', { path: '/slow', status: '499' })).toBe(1);
      expect(sampleValue(text, 'slow_total', { status: '499' })).toBe(1);
    });
    release();
    // The aborted request's connection stays open on the server until the client's keep-alive timeout (4 s).
    app.server.closeAllConnections();
  });
});
