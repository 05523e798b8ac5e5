import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { DEFAULT_BUCKETS, resolveOptions } from './options.js';
import { VERSION } from './version.js';

describe('resolveOptions', () => {
  it('resolves every default', () => {
    const o = resolveOptions(undefined);
    expect(o.path).toBe('/metrics');
    expect(o.exportDefaults).toBe(true);
    expect(o.names.requests).toBe('http_request_total');
    expect(o.groupBy).toBe('path');
    expect(o.routeLabelName).toBe('path');
    expect(o.buckets).toEqual([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
    expect(o.latencyAsHistogram).toBe(true);
    expect(o.staticLabels).toEqual([]);
    expect(o.isExcluded).toBeNull();
    expect(o.excludeUserDefaults).toBe(true);
    expect(o.registry).toBe(o.client.register);
    expect(o.collectDefaultMetrics).toEqual({});
    expect(o.authorize).toBeNull();
    expect(o.seriesLimit).toBe(10_000);
    expect(o.cluster).toBe(false);
  });

  it('joins the prefix with _ and splits default labels', () => {
    const fn = () => 'x';
    const o = resolveOptions({ prefix: 'express', defaultLabels: { app: 'shop', n: 3, who: fn } });
    expect(o.names.requests).toBe('express_http_request_total');
    expect(o.staticLabels).toEqual([
      ['app', 'shop'],
      ['n', '3'],
    ]);
    expect(o.dynamicLabels).toEqual([['who', fn]]);
  });

  it('anchors string exclusions at the start and takes RegExps as they are', () => {
    const o = resolveOptions({ excludedPaths: ['/health', /\/private$/] });
    expect(o.isExcluded?.('/health')).toBe(true);
    expect(o.isExcluded?.('/healthz')).toBe(true);
    expect(o.isExcluded?.('/api/health')).toBe(false);
    expect(o.isExcluded?.('/a/private')).toBe(true);
    const g = resolveOptions({ excludedPaths: /^\/x/g });
    // A global RegExp keeps lastIndex between calls; the copy must not.
    expect([g.isExcluded?.('/x'), g.isExcluded?.('/x'), g.isExcluded?.('/x')]).toEqual([true, true, true]);
  });

  it.each([
    [{ unknown: true }, 'unknown'],
    [{ path: 'metrics' }, 'path'],
    [{ path: 3 }, 'path'],
    [{ exportDefaults: 'yes' }, 'exportDefaults'],
    [{ prefix: '1abc' }, 'prefix'],
    [{ groupBy: 'route' }, 'groupBy'],
    [{ groupBy: [() => 'x'][0] }, 'groupBy'],
    [{ groupBy: function method() {} }, 'groupBy'],
    [{ buckets: [] }, 'buckets'],
    [{ buckets: [0.1, 0.1] }, 'buckets'],
    [{ buckets: [1, 'x'] }, 'buckets'],
    [{ latencyAsHistogram: 1 }, 'latencyAsHistogram'],
    [{ defaultLabels: { 'a-b': 'x' } }, 'defaultLabels'],
    [{ defaultLabels: { status: 'x' } }, 'defaultLabels'],
    [{ defaultLabels: { __x: 'x' } }, 'defaultLabels'],
    [{ defaultLabels: { a: {} } }, 'defaultLabels'],
    [{ excludedPaths: '(' }, 'excludedPaths'],
    [{ excludedPaths: [3] }, 'excludedPaths'],
    [{ excludeUserDefaults: null }, 'excludeUserDefaults'],
    [{ registry: {} }, 'registry'],
    [{ collectDefaultMetrics: 'no' }, 'collectDefaultMetrics'],
    [{ authorize: true }, 'authorize'],
    [{ seriesLimit: 1.5 }, 'seriesLimit'],
    [{ seriesLimit: -1 }, 'seriesLimit'],
    [{ cluster: 'yes' }, 'cluster'],
  ])('throws a TypeError naming the option for %o', (options, name) => {
    expect(() => resolveOptions(options as never)).toThrow(TypeError);
    expect(() => resolveOptions(options as never)).toThrow(`"${name}"`);
  });

  it('takes a registry', () => {
    const registry = new Registry();
    expect(resolveOptions({ registry }).registry).toBe(registry);
  });

  it('exports the flask exporter buckets', () => {
    expect(DEFAULT_BUCKETS).toEqual([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
  });

  it('reports the package version in exporter_info', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
