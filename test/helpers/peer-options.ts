import { resetWarnings } from '@prom-http/core/internal';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Registry } from './client.js';
import { parseExposition, samples, sampleValue } from './exposition.js';

/** What the shared tests need of an app instrumented by one adapter. */
export interface Instrumented {
  /** Sends a request; resolves with the status. */
  hit(method: string, url: string): Promise<number>;
  /** The body of a scrape of `/metrics` (with `query`, e.g. `?name[]=x`). */
  scrape(query?: string): Promise<string>;
  /** The instance API (Express: the middleware; Fastify: `app.metrics`). */
  api: {
    exportDefaults(options?: object): void;
    info(name: string, help: string, labels?: Record<string, string>): { set(value: number): void };
  };
  registry: InstanceType<typeof Registry>;
}

/**
 * Builds an app with these prom-http options (on a fresh registry, process metrics off unless given) and the
 * routes: GET and POST `/users/:id` (200, 201), GET `/boom` (throws: 500), GET `/labelled/:id` with the route
 * label `users-by-config` set per route (Express: `m.routeLabel`; Fastify: route config). Rejects (or throws)
 * when an option is bad.
 */
export type Build = (options: Record<string, unknown>) => Promise<Instrumented>;

const total = (text: string) => samples(text, 'http_request_total');

/** The options "for users coming from other libraries", in one adapter. */
export function peerOptionsSuite(adapter: string, build: Build): void {
  describe(`${adapter}: options from other libraries`, () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('skip is asked at the finish; a skip that throws records the request and warns once', async () => {
      const seen: number[] = [];
      const app = await build({
        skip: (_req: unknown, res: { statusCode: number }) => {
          seen.push(res.statusCode);
          return res.statusCode === 404;
        },
      });
      await app.hit('GET', '/users/1');
      await app.hit('GET', '/nowhere');
      expect(seen).toEqual([200, 404]);
      const text = await app.scrape();
      expect(total(text).map((s) => [s.labels.path, s.value])).toEqual([['/users/:id', 1]]);

      resetWarnings('PROMHTTP_SKIP_THREW');
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const throwing = await build({
        skip: () => {
          throw new Error('bad skip');
        },
      });
      await throwing.hit('GET', '/users/1');
      await throwing.hit('GET', '/users/2');
      expect(sampleValue(await throwing.scrape(), 'http_request_total', { path: '/users/:id' })).toBe(2);
      const codes = warn.mock.calls.map((c) => (c[1] as { code?: string } | undefined)?.code);
      expect(codes.filter((c) => c === 'PROMHTTP_SKIP_THREW')).toEqual(['PROMHTTP_SKIP_THREW']);
    });

    it('excludedMethods leaves those methods (any case) out of the default metrics', async () => {
      const app = await build({ excludedMethods: ['head', 'Post'] });
      await app.hit('GET', '/users/1');
      await app.hit('HEAD', '/users/1');
      await app.hit('POST', '/users/1');
      const text = await app.scrape();
      expect(total(text).map((s) => s.labels.method)).toEqual(['GET']);
      expect(samples(text, 'http_requests_in_progress').map((s) => s.labels.method)).toEqual(['GET']);
    });

    it("statusFormat 'class' and a function", async () => {
      const byClass = await build({ statusFormat: 'class' });
      await byClass.hit('GET', '/users/1');
      await byClass.hit('POST', '/users/1');
      await byClass.hit('GET', '/boom');
      const text = await byClass.scrape();
      expect(total(text).map((s) => [s.labels.method, s.labels.status, s.value])).toEqual([
        ['GET', '2xx', 1],
        ['POST', '2xx', 1],
        ['GET', '5xx', 1],
      ]);
      expect(sampleValue(text, 'http_request_exceptions_total', { status: '5xx' })).toBe(1);

      const byFunction = await build({ statusFormat: (status: number) => (status >= 500 ? 'error' : 'ok') });
      await byFunction.hit('GET', '/users/1');
      await byFunction.hit('GET', '/boom');
      expect(total(await byFunction.scrape()).map((s) => s.labels.status)).toEqual(['ok', 'error']);
    });

    it('labelNames renames the default labels; false drops method or status', async () => {
      const renamed = await build({ labelNames: { method: 'verb', status: 'code', route: 'handler' } });
      await renamed.hit('POST', '/users/1');
      const text = await renamed.scrape();
      expect(total(text)[0]?.labels).toEqual({ verb: 'POST', handler: '/users/:id', code: '201' });
      expect(samples(text, 'http_request_duration_seconds_bucket')[0]?.labels).toMatchObject({ verb: 'POST', code: '201' });
      // (Fastify records the scrape's arrival too, before it knows the route: a GET cell at 0.)
      const inProgress = samples(text, 'http_requests_in_progress');
      expect(inProgress.map((s) => s.labels.verb)).toContain('POST');
      expect(inProgress.every((s) => Object.keys(s.labels).join() === 'verb')).toBe(true);

      const dropped = await build({ labelNames: { method: false, status: false } });
      await dropped.hit('GET', '/users/1');
      await dropped.hit('POST', '/users/2');
      const merged = await dropped.scrape();
      expect(total(merged).map((s) => [s.labels, s.value])).toEqual([[{ path: '/users/:id' }, 2]]);
      expect(samples(merged, 'http_requests_in_progress').map((s) => s.labels)).toEqual([{}]);
    });

    it('metricNames are used as given (no prefix); help sets the help texts', async () => {
      const app = await build({
        prefix: 'shop',
        metricNames: { requests: 'http_requests_total', duration: 'http_server_duration_seconds' },
        help: { requests: 'Requests served' },
      });
      await app.hit('GET', '/users/1');
      const text = await app.scrape();
      expect(sampleValue(text, 'http_requests_total', { path: '/users/:id' })).toBe(1);
      expect(sampleValue(text, 'http_server_duration_seconds_count', { path: '/users/:id' })).toBe(1);
      expect(text).toContain('# HELP http_requests_total Requests served\n');
      expect(text).toContain('# TYPE shop_http_requests_in_progress gauge');
      expect(text).toContain('# TYPE shop_exporter_info gauge');
    });

    it("the summary's settings pass through with latencyAsHistogram: false", async () => {
      const app = await build({ latencyAsHistogram: false, percentiles: [0.5, 0.99], maxAgeSeconds: 60, ageBuckets: 3 });
      await app.hit('GET', '/users/1');
      const quantiles = samples(await app.scrape(), 'http_request_duration_seconds').map((s) => s.labels.quantile);
      expect(quantiles).toEqual(['0.5', '0.99']);
      await expect(build({ percentiles: [0.5] })).rejects.toThrow(/option "percentiles" .*latencyAsHistogram: false/);
    });

    it('normalizePath rewrites the route label in order; unmatchedLabel names the unmatched requests', async () => {
      const app = await build({
        groupBy: 'url',
        normalizePath: [
          [/\/\d+/g, '/#val'],
          ['^/labelled', '/named'],
        ],
        unmatchedLabel: 'no-route',
      });
      await app.hit('GET', '/users/1');
      await app.hit('GET', '/users/22');
      const text = await app.scrape();
      expect(total(text).map((s) => [s.labels.url, s.value])).toEqual([['/users/#val', 2]]);

      const unmatched = await build({ unmatchedLabel: 'no-route' });
      await unmatched.hit('GET', '/nowhere');
      expect(total(await unmatched.scrape()).map((s) => s.labels.path)).toEqual(['no-route']);
    });

    it('the per-route label value wins over groupBy', async () => {
      const app = await build({ groupBy: 'url' });
      await app.hit('GET', '/labelled/7');
      expect(total(await app.scrape()).map((s) => s.labels.url)).toEqual(['users-by-config']);
    });

    it("collectDefaultMetrics takes the client's options", async () => {
      const app = await build({ collectDefaultMetrics: { prefix: 'svc_', labels: { zone: 'eu' } } });
      const text = await app.scrape();
      expect(parseExposition(text).find((s) => s.name === 'svc_process_cpu_user_seconds_total')?.labels).toEqual({ zone: 'eu' });
      expect(text).not.toContain('\nprocess_cpu_user_seconds_total');
    });

    it('exportDefaults: false records nothing until exportDefaults(options); a second call throws', async () => {
      const app = await build({ exportDefaults: false });
      await app.hit('GET', '/users/1');
      expect(await app.scrape()).not.toContain('http_request_total');
      expect(() => app.api.exportDefaults({ path: '/other' })).toThrow(/option "path" is an option of the instance/);
      expect(() => app.api.exportDefaults({ groupBy: 'nope' })).toThrow(/option "groupBy"/);
      app.api.exportDefaults({ groupBy: 'url', prefix: 'late' });
      await app.hit('GET', '/users/2');
      expect(total(await app.scrape())).toEqual([]);
      expect(samples(await app.scrape(), 'late_http_request_total').map((s) => [s.labels.url, s.value])).toEqual([['/users/2', 1]]);
      expect(() => app.api.exportDefaults()).toThrow(/on already/);
      const on = await build({});
      expect(() => on.api.exportDefaults()).toThrow(/on already/);
    });

    it('name[] selects sample names as well as families', async () => {
      const app = await build({ buckets: [0.5, 1] });
      await app.hit('GET', '/users/1');
      const text = await app.scrape('?name[]=http_request_duration_seconds_bucket');
      expect(text.startsWith('# HELP http_request_duration_seconds Duration of HTTP requests in seconds\n')).toBe(true);
      expect(parseExposition(text).map((s) => [s.name, s.labels.le])).toEqual([
        ['http_request_duration_seconds_bucket', '0.5'],
        ['http_request_duration_seconds_bucket', '1'],
        ['http_request_duration_seconds_bucket', '+Inf'],
      ]);
      const both = await app.scrape('?name[]=http_request_duration_seconds_count&name[]=http_request_total');
      expect([...new Set(parseExposition(both).map((s) => s.name))]).toEqual(['http_request_duration_seconds_count', 'http_request_total']);
    });

    it('a groupBy function written inline is refused (its name is only inferred), unless labelNames.route names the label', async () => {
      await expect(build({ groupBy: (_req: unknown) => 'x' })).rejects.toThrow(/option "groupBy" function must be named/);
      const app = await build({ groupBy: (_req: unknown) => 'x', labelNames: { route: 'area' } });
      await app.hit('GET', '/users/1');
      expect(total(await app.scrape()).map((s) => s.labels.area)).toEqual(['x']);
    });

    it('info returns the labelled series', async () => {
      const app = await build({});
      app.api.info('build_info', 'Build', { commit: 'abc' }).set(5);
      expect(sampleValue(await app.scrape(), 'build_info', { commit: 'abc' })).toBe(5);
    });

    it.each([
      [{ skip: 'yes' }, 'skip'],
      [{ excludedMethods: 'GET' }, 'excludedMethods'],
      [{ excludedMethods: ['GET /'] }, 'excludedMethods'],
      [{ statusFormat: 'hundreds' }, 'statusFormat'],
      [{ labelNames: { verb: 'x' } }, 'labelNames'],
      [{ labelNames: { method: 'status' } }, 'labelNames'],
      [{ labelNames: { route: 'le' } }, 'labelNames'],
      [{ labelNames: { status: '0bad' } }, 'labelNames'],
      [{ metricNames: { total: 'x' } }, 'metricNames'],
      [{ metricNames: { requests: 'bad-name' } }, 'metricNames.requests'],
      [{ metricNames: { requests: 'a', duration: 'a' } }, 'metricNames'],
      [{ help: { duration: '' } }, 'help.duration'],
      [{ latencyAsHistogram: false, percentiles: [0, 2] }, 'percentiles'],
      [{ latencyAsHistogram: false, maxAgeSeconds: -1 }, 'maxAgeSeconds'],
      [{ latencyAsHistogram: false, ageBuckets: 2 }, 'ageBuckets'],
      [{ latencyAsHistogram: false, pruneAgedBuckets: 'yes' }, 'pruneAgedBuckets'],
      [{ normalizePath: [['(', 'x']] }, 'normalizePath'],
      [{ normalizePath: [[/x/]] }, 'normalizePath'],
      [{ unmatchedLabel: 404 }, 'unmatchedLabel'],
      [{ collectDefaultMetrics: { register: null } }, 'collectDefaultMetrics'],
      [{ collectDefaultMetrics: { labels: { 'bad-name': 'x' } } }, 'collectDefaultMetrics.labels'],
      [{ promClient: {} }, 'promClient'],
    ])('%j throws a TypeError naming %s', async (options, option) => {
      const escaped = option.replace(/\./g, '\\.');
      await expect(build(options)).rejects.toThrow(new RegExp(`option "${escaped}"`));
      await expect(build(options)).rejects.toBeInstanceOf(TypeError);
    });
  });
}
