import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import * as pio from '@prometheus-io/client';
import * as pc from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveClient } from './client.js';
import { resetWarnings } from './diagnostics.js';
import { PromHttp, type RouteReader } from './engine.js';
import type { RequestRecord } from './request/record.js';
import type { RegistryLike } from './types.js';

interface FakeRequest {
  route: string;
}
type FakeResponse = Record<string, never>;
const routes: RouteReader<FakeRequest, FakeResponse> = { template: (r) => r.route, endpoint: (r) => r.route, url: (r) => r.route };

/** The module objects as the app's `import x from '...'` (CommonJS default) and `require()` give them. */
const pioModule = pio.default;
const pcModule = pc.default;

function warningsDuring(run: () => void): Array<{ code?: string; message: string }> {
  const seen: Array<{ code?: string; message: string }> = [];
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((message: string, options: { code?: string }) => {
    seen.push({ message, code: options?.code });
  }) as typeof process.emitWarning);
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return seen;
}

describe('resolveClient', () => {
  beforeEach(() => resetWarnings());
  afterEach(() => resetWarnings());

  it('takes the promClient option first, over the maker of registry', () => {
    expect(resolveClient(pcModule, new pio.Registry())).toBe(pcModule);
    expect(resolveClient(pioModule, undefined)).toBe(pioModule);
    // An ESM namespace import works too.
    expect(resolveClient(pc, undefined)).toBe(pc);
  });

  it('rejects a promClient that is not a client module, naming the option and what is missing', () => {
    expect(() => resolveClient({}, undefined)).toThrow(
      new TypeError('prom-http: option "promClient" must be the prom-client or @prometheus-io/client module, has no function "Registry"'),
    );
    expect(() => resolveClient(null, undefined)).toThrow(/option "promClient" .* got null/);
    const noDefaults = { ...pcModule, collectDefaultMetrics: undefined };
    expect(() => resolveClient(noDefaults, undefined)).toThrow(/has no function "collectDefaultMetrics"/);
    const foreignRegister = { ...pcModule, register: new pio.Registry() };
    expect(() => resolveClient(foreignRegister, undefined)).toThrow(/has no "register" made by its own Registry/);
  });

  it('takes the package whose Registry made registry, without a warning', () => {
    const warnings = warningsDuring(() => {
      expect(resolveClient(undefined, new pc.Registry())).toBe(pcModule);
      expect(resolveClient(undefined, new pio.Registry())).toBe(pioModule);
    });
    expect(warnings).toEqual([]);
  });

  it('prefers @prometheus-io/client when both resolve and nothing was chosen, and warns once naming the fix', () => {
    const warnings = warningsDuring(() => {
      expect(resolveClient(undefined, undefined)).toBe(pioModule);
      expect(resolveClient(undefined, undefined)).toBe(pioModule);
    });
    expect(warnings).toEqual([
      {
        code: 'PROMHTTP_TWO_CLIENTS',
        message:
          'prom-http: both @prometheus-io/client and prom-client are installed; prom-http uses @prometheus-io/client. ' +
          'Metrics registered on the global registry of prom-client are not served. ' +
          'Pass the client your app uses as the "promClient" option (or its Registry as "registry"), or remove the other package.',
      },
    ]);
  });
});

describe.each([
  ['prom-client', pcModule],
  ['@prometheus-io/client', pioModule],
] as const)('everything prom-http registers goes through %s', (_name, client) => {
  function engine(options: { registry?: RegistryLike; promClient?: typeof client } = {}) {
    return new PromHttp<FakeRequest, FakeResponse>({ latencyAsHistogram: false, collectDefaultMetrics: true, ...options }, routes);
  }

  it('the Summary, exporter_* metrics, process metrics and custom metrics are made by the client of registry', async () => {
    const registry = new client.Registry();
    const e = engine({ registry });
    expect(e.client).toBe(client);
    const raw = new ServerResponse(new IncomingMessage(new Socket()));
    const record = e.track({ route: '/a' }, {}, raw, 'GET', '/a') as RequestRecord;
    e.finish(record, { route: '/a' }, {}, 200);

    expect(registry.getSingleMetric('http_request_duration_seconds')).toBeInstanceOf(client.Summary);
    expect(registry.getSingleMetric('exporter_info')).toBeInstanceOf(client.Gauge);
    expect(registry.getSingleMetric('exporter_label_errors_total')).toBeInstanceOf(client.Counter);
    expect(registry.getSingleMetric('process_cpu_seconds_total')).toBeInstanceOf(client.Counter);
    const counter = e.custom('counter', 'c_total', 'C', { labels: { a: 'x' } }).metric;
    expect(counter).toBeInstanceOf(client.Counter);
    // The series of a metric with only static labels exists from the start: the client's own class was recognised.
    expect(await registry.getSingleMetricAsString('c_total')).toBe('# HELP c_total C\n# TYPE c_total counter\nc_total{a="x"} 0');
    e.info('app_info', 'App', { v: '1' });
    expect(registry.getSingleMetric('app_info')).toBeInstanceOf(client.Gauge);
    expect(await registry.getSingleMetricAsString('http_request_duration_seconds')).toContain(
      'http_request_duration_seconds_count{method="GET",path="/a",status="200"} 1',
    );
  });

  it('promClient alone: the client global register is the registry', () => {
    const e = engine({ promClient: client });
    try {
      expect(e.client).toBe(client);
      expect(e.registry).toBe(client.register);
      expect(client.register.getSingleMetric('exporter_info')).toBeInstanceOf(client.Gauge);
    } finally {
      client.register.clear();
    }
  });
});
