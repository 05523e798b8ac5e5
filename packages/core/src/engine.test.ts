import { readFileSync } from 'node:fs';
import { IncomingMessage, METHODS, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from '../../../test/helpers/client.js';
import { PromHttp, type RouteReader } from './engine.js';
import type { RequestRecord } from './request/record.js';
import type { MetricsOptions, RegistryLike } from './types.js';
import { VERSION } from './version.js';

/** A framework-free request: the route template (undefined: unmatched) and the path. */
interface FakeRequest {
  route?: string;
  url: string;
}
type FakeResponse = Record<string, never>;

const routes: RouteReader<FakeRequest, FakeResponse> = {
  template: (req) => req.route,
  endpoint: (req) => req.route,
  url: (req) => req.url,
};

function engine(options: MetricsOptions<FakeRequest, FakeResponse> = {}) {
  return new PromHttp<FakeRequest, FakeResponse>({ registry: new Registry(), collectDefaultMetrics: false, ...options }, routes);
}

/** Starts recording a request as an adapter does; `done(status)` finishes it. */
function start(e: PromHttp<FakeRequest, FakeResponse>, method: string, req: FakeRequest) {
  const raw = new ServerResponse(new IncomingMessage(new Socket()));
  const res: FakeResponse = {};
  const record = e.track(req, res, raw, method, req.url) as RequestRecord;
  return {
    record,
    done(status: number) {
      e.finish(record, req, res, status);
    },
  };
}

function request(e: PromHttp<FakeRequest, FakeResponse>, method: string, req: FakeRequest, status: number): void {
  start(e, method, req).done(status);
}

/** The samples named `name` (default: the family's name) of family `family`: label set -> value. */
async function samples(registry: RegistryLike, family: string, name = family): Promise<Map<string, number>> {
  const text = await registry.getSingleMetricAsString(family);
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const space = line.lastIndexOf(' ');
    const head = line.slice(0, space);
    if (head.startsWith(`${name}{`) || head === name) out.set(head.slice(name.length), Number(line.slice(space + 1)));
  }
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

const warnings: Array<{ name: string; code: string | undefined; message: string }> = [];
function onWarning(w: Error & { code?: string }) {
  warnings.push({ name: w.name, code: w.code, message: w.message });
}
process.on('warning', onWarning);
afterEach(() => {
  warnings.length = 0;
});

describe('seriesLimit bounds series, not route values', () => {
  it('keeps every default metric at the limit (plus one overflow series per method and status) under url x method x status x random label traffic', async () => {
    const limit = 200;
    let n = 0;
    const e = engine({ groupBy: 'url', seriesLimit: limit, defaultLabels: { app: 'shop', tenant: () => `t${n++}` } });
    const statuses = [200, 404, 500];
    let requests = 0;
    for (let path = 0; path < 300; path++) {
      for (const method of METHODS) {
        request(e, method, { url: `/p/${path}` }, statuses[path % 3] as number);
        requests++;
      }
    }
    const total = await samples(e.registry, 'http_request_total');
    const overflow = [...total.keys()].filter((k) => k.includes('url="<overflow>"'));
    expect(total.size).toBeLessThanOrEqual(limit + METHODS.length * statuses.length);
    expect(total.size - overflow.length).toBe(limit);
    // Every request is counted once: in its own series or in the overflow series of its method and status.
    expect(sum(total)).toBe(requests);
    // Static default labels are kept, per-request ones are folded.
    expect(overflow).toContain('{method="GET",url="<overflow>",status="500",app="shop",tenant="<overflow>"}');
    const durations = await samples(e.registry, 'http_request_duration_seconds', 'http_request_duration_seconds_count');
    expect(durations.size).toBe(total.size);
    expect(sum(durations)).toBe(requests);
  });

  it('folds per-request default label values past the limit even when the route is always the same', async () => {
    let n = 0;
    const e = engine({ seriesLimit: 5, defaultLabels: { tenant: () => `t${n++}` } });
    for (let i = 0; i < 1000; i++) request(e, 'GET', { route: '/a', url: '/a' }, 200);
    const total = await samples(e.registry, 'http_request_total');
    expect(total.size).toBe(6);
    expect(total.get('{method="GET",path="<overflow>",status="200",tenant="<overflow>"}')).toBe(995);
  });

  it('bounds the series of a custom metric by its seriesLimit, with the instance limit as default', async () => {
    const e = engine({ seriesLimit: 3 });
    const own = e.custom('counter', 'reads_total', 'Reads', { labels: { user: (req) => req.url, kind: 'api' }, seriesLimit: 2 });
    const inherited = e.custom('counter', 'writes_total', 'Writes', { labels: { user: (req) => req.url } });
    for (let i = 0; i < 50; i++) {
      const { record, done } = start(e, 'GET', { url: `/u${i}` });
      e.enter(record, own, { url: `/u${i}` }, {});
      e.enter(record, inherited, { url: `/u${i}` }, {});
      done(200);
    }
    const reads = await samples(e.registry, 'reads_total');
    expect(reads.size).toBe(3);
    expect(reads.get('{kind="api",user="<overflow>"}')).toBe(48);
    const writes = await samples(e.registry, 'writes_total');
    expect(writes.size).toBe(4);
    expect(writes.get('{user="<overflow>"}')).toBe(47);
    // A reset frees the room.
    e.registry.resetMetrics();
    const { record, done } = start(e, 'GET', { url: '/fresh' });
    e.enter(record, own, { url: '/fresh' }, {});
    done(200);
    expect(await samples(e.registry, 'reads_total')).toEqual(new Map([['{kind="api",user="/fresh"}', 1]]));
  });

  it('refuses a seriesLimit that is not a positive integer on a custom metric', () => {
    expect(() => engine().custom('counter', 'x_total', 'X', { seriesLimit: 0 })).toThrow(/"seriesLimit"/);
  });
});

describe('http_requests_in_progress', () => {
  it('never goes below zero when the registry is reset with requests in flight', async () => {
    const e = engine();
    const inFlight = Array.from({ length: 5 }, () => start(e, 'GET', { route: '/a', url: '/a' }));
    expect(await samples(e.registry, 'http_requests_in_progress')).toEqual(new Map([['{method="GET"}', 5]]));
    e.registry.resetMetrics();
    expect(await samples(e.registry, 'http_requests_in_progress')).toEqual(new Map([['{method="GET"}', 0]]));
    const later = start(e, 'GET', { route: '/a', url: '/a' });
    for (const r of inFlight) r.done(200);
    expect(await samples(e.registry, 'http_requests_in_progress')).toEqual(new Map([['{method="GET"}', 1]]));
    later.done(200);
    expect(await samples(e.registry, 'http_requests_in_progress')).toEqual(new Map([['{method="GET"}', 0]]));
  });
});

describe('registry.clear()', () => {
  it('lets a new instance register everything again, process metrics included', async () => {
    const registry = new Registry();
    new PromHttp<FakeRequest, FakeResponse>({ registry }, routes);
    registry.clear();
    const again = new PromHttp<FakeRequest, FakeResponse>({ registry }, routes);
    request(again, 'GET', { route: '/a', url: '/a' }, 200);
    expect(registry.getSingleMetric('process_cpu_seconds_total')).toBeDefined();
    expect(await samples(registry, 'exporter_info')).toEqual(new Map([[`{version="${VERSION}"}`, 1]]));
    expect(await samples(registry, 'http_request_total')).toEqual(new Map([['{method="GET",path="/a",status="200"}', 1]]));
    expect(registry.getSingleMetric('exporter_label_errors_total')).toBeDefined();
  });
});

describe('label values', () => {
  it('drops and counts a promise, an object or a function given as a label value, and never exports [object Promise]', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const values: unknown[] = [Promise.resolve('x'), Promise.reject(new Error('nope')), { a: 1 }, () => 'x', [1, 2], Symbol('s')];
      let i = 0;
      const e = engine({ defaultLabels: { tenant: () => values[i++ % values.length] as string } });
      const custom = e.custom('counter', 'reads_total', 'Reads', { labels: { user: () => values[i % values.length] as string } });
      for (let k = 0; k < values.length; k++) {
        const { record, done } = start(e, 'GET', { route: '/a', url: '/a' });
        e.enter(record, custom, { route: '/a', url: '/a' }, {});
        done(200);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      const exposition = await e.registry.metrics();
      expect(exposition).not.toContain('[object');
      expect(await samples(e.registry, 'http_request_total')).toEqual(new Map());
      expect(await samples(e.registry, 'exporter_label_errors_total')).toEqual(
        new Map([
          ['{metric="http_request_total"}', values.length],
          ['{metric="reads_total"}', values.length],
        ]),
      );
      expect(rejections).toEqual([]);
      const labelWarnings = warnings.filter((w) => w.name === 'PromHttpWarning' && w.message.includes('http_request_total'));
      expect(labelWarnings.length).toBe(1);
      expect(labelWarnings[0]?.message).toContain('returned a promise');
      expect(labelWarnings[0]?.code).toBe('PROMHTTP_LABEL_ERROR');
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('treats a groupBy function that returns a promise as a label error', async () => {
    const e = engine({ groupBy: async function route() {} as never });
    request(e, 'GET', { url: '/a' }, 200);
    expect(await samples(e.registry, 'http_request_total')).toEqual(new Map());
    expect(await samples(e.registry, 'exporter_label_errors_total')).toEqual(new Map([['{metric="http_request_total"}', 1]]));
  });

  it('cuts values longer than 256 characters, in default labels, custom labels, groupBy and url', async () => {
    const long = 'x'.repeat(1 << 20);
    const e = engine({ groupBy: 'url', defaultLabels: { tenant: () => long } });
    const custom = e.custom('counter', 'reads_total', 'Reads', { labels: { user: () => `${'y'.repeat(255)}\u{1F600}` } });
    const { record, done } = start(e, 'GET', { url: `/${long}` });
    e.enter(record, custom, { url: '/' }, {});
    done(200);
    const total = await samples(e.registry, 'http_request_total');
    expect([...total.keys()]).toEqual([`{method="GET",url="/${'x'.repeat(255)}",status="200",tenant="${'x'.repeat(256)}"}`]);
    // A cut never leaves half of a surrogate pair.
    expect([...(await samples(e.registry, 'reads_total')).keys()]).toEqual([`{user="${'y'.repeat(255)}",tenant="${'x'.repeat(256)}"}`]);
  });

  it('keeps numbers, booleans, bigints, null and arrays of strings as before', async () => {
    const values = [1.5, true, 10n, null, ['a', 'b']];
    let i = 0;
    const e = engine({ defaultLabels: { v: () => values[i++] as unknown as string } });
    for (let k = 0; k < values.length; k++) request(e, 'GET', { route: '/a', url: '/a' }, 200);
    const tenants = [...(await samples(e.registry, 'http_request_total')).keys()].map((k) => /v="([^"]*)"/.exec(k)?.[1]);
    expect(tenants).toEqual(['1.5', 'true', '10', '', 'a,b']);
  });
});

describe('a second instance on the same registry', () => {
  it.each([
    ['defaultLabels', { defaultLabels: { app: 'public' } }, { defaultLabels: { app: 'admin' } }],
    ['seriesLimit', { seriesLimit: 10 }, { seriesLimit: 20 }],
    ['buckets', { buckets: [0.1, 1] }, { buckets: [0.5, 1] }],
    ['groupBy', { groupBy: 'path' }, { groupBy: 'url' }],
    ['latencyAsHistogram', {}, { latencyAsHistogram: false }],
  ] as const)('throws a TypeError naming %s when it differs', (option, first, second) => {
    const registry = new Registry();
    new PromHttp<FakeRequest, FakeResponse>({ registry, collectDefaultMetrics: false, ...first }, routes);
    const again = () => new PromHttp<FakeRequest, FakeResponse>({ registry, collectDefaultMetrics: false, ...second }, routes);
    expect(again).toThrow(TypeError);
    expect(again).toThrow(`another "${option}"`);
  });

  it('shares the metrics when the options match', async () => {
    const registry = new Registry();
    const options = { registry, collectDefaultMetrics: false, defaultLabels: { app: 'public' } };
    const a = new PromHttp<FakeRequest, FakeResponse>(options, routes);
    const b = new PromHttp<FakeRequest, FakeResponse>(options, routes);
    request(a, 'GET', { route: '/a', url: '/a' }, 200);
    request(b, 'GET', { route: '/a', url: '/a' }, 200);
    expect(await samples(registry, 'http_request_total')).toEqual(new Map([['{method="GET",path="/a",status="200",app="public"}', 2]]));
  });

  it('says when the app registered a default metric name itself, even with the same labels', () => {
    const registry = new Registry();
    new Counter({ name: 'http_request_total', help: 'mine', labelNames: ['method', 'path', 'status'], registers: [registry] });
    expect(() => engine({ registry })).toThrow(
      /"http_request_total" is already registered in this registry by the app or another library, not by prom-http/,
    );
  });
});

describe('custom metric clashes', () => {
  it('names what differs: type, labels, buckets, seriesLimit', () => {
    const e = engine();
    e.custom('histogram', 'h_seconds', 'H', { buckets: [1, 2], labels: { a: 'x' } });
    expect(() => e.custom('counter', 'h_seconds', 'H', { labels: { a: 'x' } })).toThrow(
      /another "type" \("histogram" there, "counter" here\)/,
    );
    expect(() => e.custom('histogram', 'h_seconds', 'H', { buckets: [1, 2], labels: { b: 'x' } })).toThrow(/another "labels"/);
    expect(() => e.custom('histogram', 'h_seconds', 'H', { buckets: [1, 3], labels: { a: 'x' } })).toThrow(
      /another "buckets" \(\[1,2\] there, \[1,3\] here\)/,
    );
    expect(() => e.custom('histogram', 'h_seconds', 'H', { labels: { a: 'y' }, seriesLimit: 5 })).toThrow(
      /another "seriesLimit" \(10000 there, 5 here\)/,
    );
    // Same shape, or settings left to the metric: reused.
    expect(e.custom('histogram', 'h_seconds', 'H', { labels: { a: 'y' } }).metric).toBe(
      e.custom('histogram', 'h_seconds', 'H', { buckets: [1, 2], labels: { a: 'x' } }).metric,
    );
  });

  it("reuses a metric the app registered with the same type and labels, and says it is the app's when they differ", () => {
    const e = engine();
    const mine = new Gauge({ name: 'g', help: 'G', labelNames: ['a'], registers: [e.registry as Registry] });
    expect(e.custom('gauge', 'g', 'G', { labels: { a: () => 'x' } }).metric).toBe(mine);
    new Histogram({ name: 'h', help: 'H', labelNames: ['a'], registers: [e.registry as Registry] });
    expect(() => e.custom('counter', 'h', 'H', { labels: { a: 'x' } })).toThrow(
      /registered in this registry by the app or another library, not by prom-http \(a histogram with labels \[a\]\)/,
    );
  });
});

describe('scrape', () => {
  it('answers 500 naming the metric when a collect rejects, and leaves no unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const e = engine();
      new Gauge({
        name: 'broken',
        help: 'Broken',
        registers: [e.registry as Registry],
        async collect() {
          throw new Error('database down');
        },
      });
      new Gauge({
        name: 'broken_too',
        help: 'Broken too',
        registers: [e.registry as Registry],
        collect() {
          throw new Error('sync failure');
        },
      });
      const answer = await e.scrape(undefined, { method: 'GET', url: '/metrics', accept: undefined, acceptEncoding: undefined });
      expect(answer.status).toBe(500);
      expect(String(answer.body)).toMatch(/^metrics could not be rendered: metric "broken_too" could not be collected: sync failure\n$/);
      e.registry.removeSingleMetric('broken_too');
      await expect(e.generateMetrics()).rejects.toThrow('metric "broken" could not be collected: database down');
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});

describe('startHttpServer', () => {
  it('gives authorize the IncomingMessage of its own server', async () => {
    const seen: unknown[] = [];
    const e = engine({
      authorize(req) {
        seen.push(req);
        return 'headers' in req && req.headers.authorization === 'Bearer t';
      },
    });
    const server = await e.startHttpServer(0, { host: '127.0.0.1' });
    try {
      const { port } = server.address() as { port: number };
      const refused = await fetch(`http://127.0.0.1:${port}/metrics`);
      const allowed = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: 'Bearer t' } });
      expect([refused.status, allowed.status]).toEqual([401, 200]);
      expect(seen.length).toBe(2);
      expect(seen.every((req) => req instanceof IncomingMessage)).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('exporter_info', () => {
  it('carries the version of packages/core/package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(version);
    const e = engine();
    expect(await samples(e.registry, 'exporter_info')).toEqual(new Map([[`{version="${version}"}`, 1]]));
  });
});
