import { describe, expect, it } from 'vitest';
import testClient, { BOTH_CLIENTS, type Client, Registry, Summary } from '../../../../test/helpers/client.js';
import { registerTestFamilies } from '../fixtures/request-families.js';
import { DEFAULT_BUCKETS } from '../options.js';
import { generateMetrics, OPENMETRICS_CONTENT_TYPE, requestedNames, wantsOpenMetrics } from './exposition.js';

/** Fills our families and the client's metrics of the same names with the same observations. */
function twinRegistries(
  { Counter, Gauge, Histogram, Registry, Summary }: Client,
  observations: Array<[string, string, number, number, boolean]>,
  contentType?: string,
) {
  const ours: Registry = new (Registry as unknown as new (t?: string) => Registry)(contentType);
  const theirs: Registry = new (Registry as unknown as new (t?: string) => Registry)(contentType);
  const { store, inProgress } = registerTestFamilies(ours, '', 'path', [['env', 'prod']], [], DEFAULT_BUCKETS, true, 10_000, Summary);
  const labelNames = ['method', 'path', 'status', 'env'];
  const hist = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds',
    labelNames,
    buckets: [...DEFAULT_BUCKETS],
    registers: [theirs],
  });
  const total = new Counter({ name: 'http_request_total', help: 'Total number of HTTP requests', labelNames, registers: [theirs] });
  const exceptions = new Counter({
    name: 'http_request_exceptions_total',
    help: 'Total number of HTTP requests which resulted in an exception',
    labelNames,
    registers: [theirs],
  });
  const progress = new Gauge({
    name: 'http_requests_in_progress',
    help: 'Number of HTTP requests in progress',
    labelNames: ['method', 'env'],
    registers: [theirs],
  });
  for (const [method, path, status, seconds, exception] of observations) {
    store.observe(method, path, status, seconds, exception, null);
    const labels = { method, path, status: String(status), env: 'prod' };
    hist.observe(labels, seconds);
    total.inc(labels);
    if (exception) exceptions.inc(labels);
    inProgress.cell(method);
    progress.set({ method, env: 'prod' }, 0);
  }
  return { ours, theirs };
}

const OBSERVATIONS: Array<[string, string, number, number, boolean]> = [
  ['GET', '/users/:id', 200, 0.003, false],
  ['GET', '/users/:id', 200, 0.2, false],
  ['POST', '/users', 201, 0.07, false],
  ['GET', '/boom', 500, 12, true],
  ['GET', '/q"uote\\back\nline', 404, 0.1, false],
  ['GET', '/users/:id', 200, 0.1 + 0.2, false],
];

// Byte-identical to what each client renders: both in every run, whichever PROMHTTP_TEST_CLIENT chose.
describe.each(BOTH_CLIENTS)('exposition as %s renders it', (_name, client) => {
  const { Counter, Gauge, Histogram, Registry, Summary } = client;
  it('renders the default families byte-identical to the client (text format)', async () => {
    const { ours, theirs } = twinRegistries(client, OBSERVATIONS);
    const { body, contentType } = await generateMetrics(ours);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(body).toBe(await theirs.metrics());
    // The client's own renderer reads our families too.
    expect(await ours.metrics()).toBe(body);
  });

  it('writes multi-digit counts and fractional sums exactly as the client', async () => {
    const many: Array<[string, string, number, number, boolean]> = [];
    for (let i = 0; i < 12_345; i++) many.push(['GET', `/r/${i % 2}`, 200, (i % 97) / 31, i % 11 === 0]);
    const { ours, theirs } = twinRegistries(client, many);
    const { body } = await generateMetrics(ours);
    expect(body).toMatch(/\} \d{4,}\n/);
    expect(body).toBe(await theirs.metrics());
  });

  it('renders OpenMetrics byte-identical to the client', async () => {
    const { ours, theirs } = twinRegistries(client, OBSERVATIONS, OPENMETRICS_CONTENT_TYPE);
    const { body, contentType } = await generateMetrics(ours, { accept: 'application/openmetrics-text; version=1.0.0' });
    expect(contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(body).toBe(await theirs.metrics());
    expect(body.endsWith('# EOF\n')).toBe(true);
  });

  it('renders foreign metrics, registry default labels and summaries like the client', async () => {
    const build = () => {
      const registry = new Registry();
      registry.setDefaultLabels({ app: 'shop' });
      const c = new Counter({ name: 'jobs_total', help: 'Jobs\nwith "newline"', labelNames: ['kind'], registers: [registry] });
      c.inc({ kind: 'a\\b' }, 3);
      const s = new Summary({ name: 'sizes', help: 'Sizes', registers: [registry] });
      s.observe(3);
      s.observe(5);
      new Gauge({ name: 'idle', help: 'Idle', registers: [registry] }).set(Number.NaN);
      return registry;
    };
    const registry = build();
    const { store } = registerTestFamilies(registry, 'x_', 'path', [], [], [0.1, 1], true, 10, Summary);
    store.observe('GET', '/a', 200, 0.5, false, null);
    const reference = build();
    const hist = new Histogram({
      name: 'x_http_request_duration_seconds',
      help: 'Duration of HTTP requests in seconds',
      labelNames: ['method', 'path', 'status'],
      buckets: [0.1, 1],
      registers: [reference],
    });
    hist.observe({ method: 'GET', path: '/a', status: '200' }, 0.5);
    new Counter({
      name: 'x_http_request_total',
      help: 'Total number of HTTP requests',
      labelNames: ['method', 'path', 'status'],
      registers: [reference],
    }).inc({ method: 'GET', path: '/a', status: '200' });
    new Counter({
      name: 'x_http_request_exceptions_total',
      help: 'Total number of HTTP requests which resulted in an exception',
      labelNames: ['method', 'path', 'status'],
      registers: [reference],
    });
    new Gauge({
      name: 'x_http_requests_in_progress',
      help: 'Number of HTTP requests in progress',
      labelNames: ['method'],
      registers: [reference],
    });
    expect((await generateMetrics(registry)).body).toBe(await reference.metrics());
  });
});

describe('exposition', () => {
  it('filters families by name', async () => {
    const { ours } = twinRegistries(testClient, OBSERVATIONS);
    const { body } = await generateMetrics(ours, { names: ['http_request_total'] });
    expect(body.startsWith('# HELP http_request_total ')).toBe(true);
    expect(body).not.toContain('http_request_duration_seconds');
  });

  it('reads name[] from a query string', () => {
    expect(requestedNames('/metrics?name[]=a&name[]=b')).toEqual(['a', 'b']);
    expect(requestedNames('/metrics?name%5B%5D=a')).toEqual(['a']);
    expect(requestedNames('/metrics')).toBeUndefined();
  });
});

describe('series store', () => {
  it('keeps at most seriesLimit route values and folds the rest into <overflow>', () => {
    const registry = new Registry();
    const { store } = registerTestFamilies(registry, '', 'url', [], [], DEFAULT_BUCKETS, true, 2, Summary);
    for (let i = 0; i < 100; i++) store.observe('GET', `/u/${i}`, 200, 0.01, false, null);
    expect(store.routeCount).toBe(3);
    expect(store.series.map((s) => s.labels.url)).toEqual(['/u/0', '/u/1', '<overflow>']);
    expect(store.series[2]?.count).toBe(98);
  });

  it('refuses a second layout under the same names', () => {
    const registry = new Registry();
    registerTestFamilies(registry, '', 'path', [], [], DEFAULT_BUCKETS, true, 10, Summary);
    expect(() => registerTestFamilies(registry, '', 'endpoint', [], [], DEFAULT_BUCKETS, true, 10, Summary)).toThrow(TypeError);
    const again = registerTestFamilies(registry, '', 'path', [], [], DEFAULT_BUCKETS, true, 10, Summary);
    expect(again.store.labelNames.route).toBe('path');
  });
});

describe('wantsOpenMetrics', () => {
  it.each([
    // What Prometheus sends.
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      true,
    ],
    ['application/openmetrics-text', true],
    ['Application/OpenMetrics-Text', true],
    ['APPLICATION/OPENMETRICS-TEXT; VERSION=1.0.0', true],
    ['application/openmetrics-text;q=0, text/plain', false],
    ['application/openmetrics-text; q=0', false],
    ['application/openmetrics-text;q=0.0', false],
    ['text/plain, application/openmetrics-text;q=0.5', false],
    ['text/plain;q=0.5, application/openmetrics-text;q=0.5', true],
    ['text/*;q=0.2, application/openmetrics-text;q=0.3', true],
    ['text/plain;q=0, application/openmetrics-text;q=0.1', true],
    ['application/openmetrics-text;q=0.1, */*', false],
    ['*/*', false],
    ['application/*', false],
    ['text/plain', false],
    ['application/openmetrics-text;q=abc', false],
    ['application/openmetrics-textual', false],
    ['', false],
    [undefined, false],
  ])('%s -> %s', (accept, expected) => {
    expect(wantsOpenMetrics(accept)).toBe(expected);
  });
});
