import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BOTH_CLIENTS, type Client, Counter, Registry, Summary } from '../../../../test/helpers/client.js';
import { parseExposition, type Sample } from '../../../../test/helpers/exposition.js';
import { CustomMetric } from '../custom/custom-metric.js';
import { resetWarnings } from '../diagnostics.js';
import { PromHttp, type RouteReader } from '../engine.js';
import { generateMetrics, OPENMETRICS_CONTENT_TYPE } from '../exposition/exposition.js';
import { registerTestFamilies } from '../fixtures/request-families.js';
import { resolveOptions } from '../options.js';
import type { MetricsOptions, RegistryLike } from '../types.js';
import { exemplarLabels, openTelemetrySpan, RequestExemplars } from './exemplars.js';
import type { RequestRecord } from './record.js';

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';
const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const SPAN_A = 'b7ad6b7169203331';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_B = '00f067aa0ba902b7';

function spanOf(traceId: string, spanId: string, traceFlags = 1): Span {
  return trace.wrapSpanContext({ traceId, spanId, traceFlags });
}

/** Runs `fn` with `span` active, as an instrumentation runs the app's handlers. */
function inSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

const warnings: string[] = [];
function watchWarnings() {
  vi.spyOn(process, 'emitWarning').mockImplementation(((_message: string, options: { code?: string }) => {
    warnings.push(options.code ?? '');
  }) as typeof process.emitWarning);
}
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  resetWarnings();
  warnings.length = 0;
});

/** The samples of family `name` in an exposition. */
function samplesOf(text: string, name: string): Sample[] {
  return parseExposition(text).filter((s) => s.name === name);
}

describe('option exemplars', () => {
  it('is off by default, and refuses what is neither a boolean nor a function, naming the option', () => {
    expect(resolveOptions({ registry: new Registry() }).exemplars).toBeNull();
    expect(resolveOptions({ registry: new Registry(), exemplars: false }).exemplars).toBeNull();
    expect(() => resolveOptions({ registry: new Registry(), exemplars: 'otel' as never })).toThrow(
      /option "exemplars" must be a boolean or a function/,
    );
  });

  it('true without @opentelemetry/api installed is a TypeError naming the option and the package', () => {
    const missing = (id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
    };
    expect(() => openTelemetrySpan('option "exemplars"', missing)).toThrow(TypeError);
    expect(() => openTelemetrySpan('option "exemplars"', missing)).toThrow(
      /option "exemplars" is true.*@opentelemetry\/api is not installed/,
    );
    expect(() => openTelemetrySpan('option "exemplars"', () => ({ trace: {} }))).toThrow(/needs @opentelemetry\/api 1\.x/);
  });

  it('true reads the sampled span active now', () => {
    const read = resolveOptions({ registry: new Registry(), exemplars: true }).exemplars?.atStart;
    expect(read).toBeTypeOf('function');
    expect(read?.()).toBeNull();
    expect(inSpan(spanOf(TRACE_A, SPAN_A), () => read?.())).toEqual({ trace_id: TRACE_A, span_id: SPAN_A });
    // Not sampled, or invalid: no exemplar that would link to a trace nobody kept.
    expect(inSpan(spanOf(TRACE_A, SPAN_A, 0), () => read?.())).toBeNull();
    expect(inSpan(spanOf('0'.repeat(32), SPAN_A), () => read?.())).toBeNull();
  });
});

describe('exemplarLabels', () => {
  it('keeps string, number and boolean values; no labels is no exemplar', () => {
    expect(exemplarLabels({ trace_id: 'abc', n: 3, sampled: true })).toEqual({ trace_id: 'abc', n: '3', sampled: 'true' });
    expect(exemplarLabels(undefined)).toBeNull();
    expect(exemplarLabels({})).toBeNull();
  });

  it('drops labels over 128 characters (names and values together) and warns once', () => {
    watchWarnings();
    expect(exemplarLabels({ trace_id: 'x'.repeat(121) })).toBeNull();
    expect(exemplarLabels({ trace_id: 'y'.repeat(121) })).toBeNull();
    // 8 + 120 characters: at the limit.
    expect(exemplarLabels({ trace_id: 'x'.repeat(120) })).toEqual({ trace_id: 'x'.repeat(120) });
    expect(warnings).toEqual(['PROMHTTP_EXEMPLAR_TOO_LONG']);
  });

  it('drops what is not labels and warns once; a returned promise never rejects unhandled', async () => {
    watchWarnings();
    expect(exemplarLabels('abc')).toBeNull();
    expect(exemplarLabels({ 'trace-id': 'x' })).toBeNull();
    expect(exemplarLabels({ trace_id: { id: 1 } })).toBeNull();
    expect(exemplarLabels(Promise.reject(new Error('late')))).toBeNull();
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toEqual(['PROMHTTP_EXEMPLAR_ERROR']);
  });
});

/** The default families on a fresh registry, and a recorder of exemplars given as labels. */
function families(registry: RegistryLike = new Registry(), buckets = [0.1, 1]) {
  const { store } = registerTestFamilies(registry as never, '', 'path', [], [], buckets, true, 10_000, Summary);
  const exemplars = new RequestExemplars<unknown, { labels: Record<string, string> | null }>(
    { atStart: null, atFinish: (_req, res) => res.labels },
    buckets,
  );
  function observe(route: string, status: number, seconds: number, labels: Record<string, string> | null) {
    const series = store.observe('GET', route, status, seconds, false, null);
    exemplars.observe(series, seconds, null as unknown as RequestRecord, undefined, { labels });
  }
  return { registry, store, observe };
}

describe('default families with exemplars', () => {
  it('OpenMetrics puts the latest exemplar on the bucket the request fell in and on _total; 0.0.4 none', async () => {
    vi.useFakeTimers({ now: 1_765_000_000_123, toFake: ['Date'] });
    const { registry, observe } = families();
    observe('/a', 200, 0.05, { trace_id: TRACE_A, span_id: SPAN_A });
    vi.setSystemTime(1_765_000_001_456);
    observe('/a', 200, 0.5, { trace_id: TRACE_B, span_id: SPAN_B });
    observe('/a', 200, 7, { trace_id: TRACE_A, span_id: SPAN_B });
    observe('/a', 200, 0.07, null);
    observe('/b', 200, 0.5, null);

    const { body } = await generateMetrics(registry, { accept: OPENMETRICS });
    const buckets = samplesOf(body, 'http_request_duration_seconds_bucket').filter((s) => s.labels.path === '/a');
    expect(buckets.map((s) => [s.labels.le, s.value, s.exemplar])).toEqual([
      ['0.1', 2, { labels: { trace_id: TRACE_A, span_id: SPAN_A }, value: 0.05, timestamp: 1_765_000_000.123 }],
      ['1', 3, { labels: { trace_id: TRACE_B, span_id: SPAN_B }, value: 0.5, timestamp: 1_765_000_001.456 }],
      ['+Inf', 4, { labels: { trace_id: TRACE_A, span_id: SPAN_B }, value: 7, timestamp: 1_765_000_001.456 }],
    ]);
    const totals = samplesOf(body, 'http_request_total');
    expect(totals.map((s) => [s.labels.path, s.value, s.exemplar])).toEqual([
      ['/a', 4, { labels: { trace_id: TRACE_A, span_id: SPAN_B }, value: 1, timestamp: 1_765_000_001.456 }],
      ['/b', 1, undefined],
    ]);
    expect(samplesOf(body, 'http_request_duration_seconds_sum').every((s) => s.exemplar === undefined)).toBe(true);

    const text = (await generateMetrics(registry)).body;
    expect(text).not.toContain(TRACE_A);
    expect(parseExposition(text).every((s) => s.exemplar === undefined)).toBe(true);
  });

  it('the exceptions counter carries no exemplar', async () => {
    const { registry, store } = families();
    const exemplars = new RequestExemplars({ atStart: null, atFinish: () => ({ trace_id: TRACE_A }) }, [0.1, 1]);
    exemplars.observe(store.observe('GET', '/a', 500, 0.05, true, null), 0.05, null as never, undefined, undefined);
    const { body } = await generateMetrics(registry, { accept: OPENMETRICS });
    expect(samplesOf(body, 'http_request_exceptions_total')).toEqual([
      { name: 'http_request_exceptions_total', labels: expect.any(Object), value: 1 },
    ]);
    expect(samplesOf(body, 'http_request_total')[0]?.exemplar?.labels).toEqual({ trace_id: TRACE_A });
  });

  describe.each(BOTH_CLIENTS)('as %s renders them', (_name, client: Client) => {
    const openMetricsRegistry = () => new (client.Registry as unknown as new (t: string) => RegistryLike)(OPENMETRICS_CONTENT_TYPE);

    it('our fast path writes the bytes the client writes from our samples', async () => {
      vi.useFakeTimers({ now: 1_765_000_000_100, toFake: ['Date'] });
      const { registry, observe } = families(openMetricsRegistry());
      observe('/a', 200, 0.05, { trace_id: TRACE_A, span_id: SPAN_A });
      observe('/q"uote', 404, 3, { trace_id: 'a"b\\c', span_id: SPAN_B });
      const { body } = await generateMetrics(registry, { accept: OPENMETRICS });
      expect(body).toContain(`# {trace_id="${TRACE_A}",span_id="${SPAN_A}"} 0.05 1765000000.1`);
      expect(body).toBe(await registry.metrics());
    });

    it('the slow path (registry default labels) shows them as the client does', async () => {
      const { registry, observe } = families(openMetricsRegistry());
      registry.setDefaultLabels({ app: 'shop' });
      observe('/a', 200, 0.5, { trace_id: TRACE_A, span_id: SPAN_A });
      const { body } = await generateMetrics(registry, { accept: OPENMETRICS });
      expect(samplesOf(body, 'http_request_total')[0]?.exemplar?.labels).toEqual({ trace_id: TRACE_A, span_id: SPAN_A });
      expect(body).toBe(await registry.metrics());
    });

    it("the duration histogram's exemplars are the client's own Histogram's, byte for byte", async () => {
      vi.useFakeTimers({ now: 1_765_000_000_777, toFake: ['Date'] });
      const ours = families(openMetricsRegistry(), [0.1, 1]);
      const theirs = openMetricsRegistry();
      const hist = new client.Histogram({
        name: 'http_request_duration_seconds',
        help: 'Duration of HTTP requests in seconds',
        labelNames: ['method', 'path', 'status'],
        buckets: [0.1, 1],
        enableExemplars: true,
        registers: [theirs as never],
      });
      for (const [seconds, traceId] of [
        [0.05, TRACE_A],
        [0.5, TRACE_B],
        [0.06, TRACE_B],
        [9, TRACE_A],
      ] as const) {
        const exemplar = { trace_id: traceId, span_id: SPAN_A };
        ours.observe('/a', 200, seconds, exemplar);
        // The client's types expect the metric's own label names in exemplarLabels; the client takes any.
        hist.observe({ labels: { method: 'GET', path: '/a', status: '200' }, value: seconds, exemplarLabels: exemplar as never });
      }
      const mine = await ours.registry.getSingleMetricAsString('http_request_duration_seconds');
      expect((await generateMetrics(ours.registry, { accept: OPENMETRICS, names: ['http_request_duration_seconds'] })).body).toBe(
        `${await theirs.getSingleMetricAsString('http_request_duration_seconds')}\n# EOF\n`,
      );
      expect(mine).toBe(await theirs.getSingleMetricAsString('http_request_duration_seconds'));
    });

    it("an app's own counter and histogram with exemplars render as the client renders them", async () => {
      const registry = openMetricsRegistry();
      const counter = new client.Counter({
        name: 'jobs_total',
        help: 'Jobs',
        labelNames: ['kind'],
        enableExemplars: true,
        registers: [registry as never],
      });
      const hist = new client.Histogram({
        name: 'job_seconds',
        help: 'Job time',
        labelNames: ['kind'],
        buckets: [1, 10],
        enableExemplars: true,
        registers: [registry as never],
      });
      counter.inc({ labels: { kind: 'a' }, value: 2, exemplarLabels: { trace_id: TRACE_A, note: 'q"\\\n' } as never });
      counter.inc({ labels: { kind: 'b' } });
      hist.observe({ labels: { kind: 'a' }, value: 4, exemplarLabels: { trace_id: TRACE_B } as never });
      hist.observe({ labels: { kind: 'a' }, value: 40, exemplarLabels: { trace_id: TRACE_A } as never });
      const { body, contentType } = await generateMetrics(registry, { accept: OPENMETRICS });
      expect(contentType).toBe(OPENMETRICS_CONTENT_TYPE);
      expect(samplesOf(body, 'job_seconds_bucket').map((s) => s.exemplar?.labels.trace_id)).toEqual([undefined, TRACE_B, TRACE_A]);
      expect(body).toBe(await registry.metrics());
      // The text format never carries them.
      expect((await generateMetrics(registry)).body).not.toContain('trace_id');
    });
  });
});

// --- the engine -------------------------------------------------------------------------------------

interface FakeRequest {
  route: string;
  traceparent?: string;
}
const routes: RouteReader<FakeRequest, object> = { template: (req) => req.route, endpoint: (req) => req.route, url: (req) => req.route };

function engine(options: MetricsOptions<FakeRequest, object>) {
  return new PromHttp<FakeRequest, object>(
    { registry: new Registry(), collectDefaultMetrics: false, buckets: [0.1, 1], ...options },
    routes,
  );
}

function track(e: PromHttp<FakeRequest, object>, req: FakeRequest) {
  const raw = new ServerResponse(new IncomingMessage(new Socket()));
  return e.track(req, {}, raw, 'GET', req.route) as RequestRecord;
}

describe('engine with exemplars', () => {
  it('true: the span active when the request started, not when it finished', async () => {
    const e = engine({ exemplars: true });
    const record = inSpan(spanOf(TRACE_A, SPAN_A), () => track(e, { route: '/a' }));
    inSpan(spanOf(TRACE_B, SPAN_B), () => e.finish(record, { route: '/a' }, {}, 200));
    e.finish(track(e, { route: '/b' }), { route: '/b' }, {}, 200);
    const { body } = await e.generateMetrics({ accept: OPENMETRICS });
    expect(samplesOf(body, 'http_request_total').map((s) => [s.labels.path, s.exemplar?.labels])).toEqual([
      ['/a', { trace_id: TRACE_A, span_id: SPAN_A }],
      ['/b', undefined],
    ]);
    expect(samplesOf(body, 'http_request_duration_seconds_bucket')[0]?.exemplar?.labels).toEqual({ trace_id: TRACE_A, span_id: SPAN_A });
  });

  it('a function: read from the request once it finished; a throw drops the exemplar, never the request', async () => {
    watchWarnings();
    const e = engine({
      exemplars: (req) => {
        if (req.traceparent === 'bad') throw new Error('no trace');
        return req.traceparent === undefined ? undefined : { trace_id: req.traceparent };
      },
    });
    for (const req of [{ route: '/a', traceparent: 'abc' }, { route: '/b' }, { route: '/c', traceparent: 'bad' }])
      e.finish(track(e, req), req, {}, 200);
    const { body } = await e.generateMetrics({ accept: OPENMETRICS });
    expect(samplesOf(body, 'http_request_total').map((s) => [s.labels.path, s.value, s.exemplar?.labels])).toEqual([
      ['/a', 1, { trace_id: 'abc' }],
      ['/b', 1, undefined],
      ['/c', 1, undefined],
    ]);
    expect(warnings).toEqual(['PROMHTTP_EXEMPLAR_ERROR']);
  });

  it('exportDefaults({ exemplars }) turns them on with the default metrics, later', async () => {
    const e = engine({ exportDefaults: false });
    e.exportDefaults({ exemplars: () => ({ trace_id: 'later' }) });
    e.finish(track(e, { route: '/a' }), { route: '/a' }, {}, 200);
    const { body } = await e.generateMetrics({ accept: OPENMETRICS });
    expect(samplesOf(body, 'http_request_total')[0]?.exemplar?.labels).toEqual({ trace_id: 'later' });
  });

  it('with latencyAsHistogram false, the request counter still carries them', async () => {
    const e = engine({ exemplars: () => ({ trace_id: 'abc' }), latencyAsHistogram: false });
    e.finish(track(e, { route: '/a' }), { route: '/a' }, {}, 200);
    const { body } = await e.generateMetrics({ accept: OPENMETRICS });
    expect(samplesOf(body, 'http_request_total')[0]?.exemplar?.labels).toEqual({ trace_id: 'abc' });
  });
});

// --- custom wrappers -------------------------------------------------------------------------------

describe('custom metrics with exemplars', () => {
  function custom(kind: 'counter' | 'histogram' | 'gauge', registry: RegistryLike, options: Record<string, unknown>, name = 'work') {
    const { client } = resolveOptions({ registry });
    return new CustomMetric<FakeRequest, object>(
      kind,
      name,
      'Work',
      options,
      { client, registry, staticLabels: [], dynamicLabels: [], seriesLimit: 100 },
      () => {},
    );
  }

  it('on a registry of the text content type too: counters and histograms keep the latest exemplar', async () => {
    const registry = new Registry();
    const counter = custom('counter', registry, { exemplars: true, labels: { route: (req: FakeRequest) => req.route } }, 'work_total');
    const hist = custom(
      'histogram',
      registry,
      { exemplars: (req: FakeRequest) => ({ trace_id: req.traceparent ?? '' }), buckets: [1] },
      'work_seconds',
    );
    const req = { route: '/a', traceparent: 'feed' };
    const entries = inSpan(spanOf(TRACE_A, SPAN_A), () => [counter.enter(req, {}, 0), hist.enter(req, {}, 0)]);
    inSpan(spanOf(TRACE_B, SPAN_B), () => {
      counter.finish(entries[0] as never, req, {}, 500);
      hist.finish(entries[1] as never, req, {}, 500);
    });
    const { body } = await generateMetrics(registry, { accept: OPENMETRICS });
    expect(samplesOf(body, 'work_total').map((s) => [s.labels.route, s.value, s.exemplar?.labels])).toEqual([
      ['/a', 1, { trace_id: TRACE_A, span_id: SPAN_A }],
    ]);
    expect(samplesOf(body, 'work_seconds_bucket').map((s) => [s.labels.le, s.value, s.exemplar?.labels, s.exemplar?.value])).toEqual([
      ['1', 1, { trace_id: 'feed' }, 0.5],
      ['+Inf', 1, undefined, undefined],
    ]);
    expect((await generateMetrics(registry)).body).not.toContain('feed');
  });

  it('with only static labels the series starts at 0 and no observation is lost', async () => {
    const registry = new Registry();
    const counter = custom('counter', registry, { exemplars: true, labels: { team: 'core' } }, 'static_total');
    expect(samplesOf((await generateMetrics(registry)).body, 'static_total').map((s) => [s.labels, s.value])).toEqual([
      [{ team: 'core' }, 0],
    ]);
    counter.finish(counter.enter({ route: '/' }, {}, 0) as never, { route: '/' }, {}, 1);
    expect(samplesOf((await generateMetrics(registry)).body, 'static_total').map((s) => [s.labels, s.value])).toEqual([
      [{ team: 'core' }, 1],
    ]);
  });

  it('refuses exemplars on a gauge, and on a metric the app made without them, naming the option', () => {
    const registry = new Registry();
    expect(() => custom('gauge', registry, { exemplars: true })).toThrow(/option "exemplars" is not an option of a gauge/);
    new Counter({ name: 'app_total', help: 'App', registers: [registry] });
    expect(() => custom('counter', registry, { exemplars: true }, 'app_total')).toThrow(
      /option "exemplars" of metric "app_total": the counter already registered under that name was made without exemplars/,
    );
  });

  it("counts into the app's metric made with enableExemplars when the wrapper has none", async () => {
    const registry = new (Registry as unknown as new (contentType: string) => Registry)(OPENMETRICS_CONTENT_TYPE);
    new Counter({ name: 'own_total', help: 'Own', labelNames: ['route'], enableExemplars: true, registers: [registry] });
    const counter = custom('counter', registry, { labels: { route: (req: FakeRequest) => req.route } }, 'own_total');
    counter.finish(counter.enter({ route: '/a' }, {}, 0) as never, { route: '/a' }, {}, 1);
    expect(samplesOf((await generateMetrics(registry)).body, 'own_total').map((s) => [s.labels, s.value])).toEqual([[{ route: '/a' }, 1]]);
  });
});
