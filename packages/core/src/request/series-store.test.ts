import { describe, expect, it } from 'vitest';
import { Registry, Summary } from '../../../../test/helpers/client.js';
import { registerTestFamilies } from '../fixtures/request-families.js';
import { OVERFLOW, type SeriesStore } from './series-store.js';

function store(seriesLimit = 10_000, dynamic: string[] = []): SeriesStore {
  return registerTestFamilies(new Registry(), '', 'path', [], dynamic, [0.1, 1], true, seriesLimit, Summary).store;
}

/** `method path status` → count, for every series of the store. */
function counts(s: SeriesStore): Record<string, number> {
  return Object.fromEntries(s.series.map((x) => [`${x.labels.method} ${x.labels.path} ${x.labels.status}`, x.count]));
}

describe('SeriesStore.observe', () => {
  it('counts each observation in its own series when consecutive requests differ in one label', () => {
    const s = store();
    const seen: Array<[string, string, number]> = [
      ['GET', '/a', 200],
      ['GET', '/a', 200],
      ['POST', '/a', 200],
      ['GET', '/a', 200],
      ['GET', '/b', 200],
      ['GET', '/a', 500],
      ['GET', '/a', 200],
    ];
    for (const [method, route, status] of seen) s.observe(method, route, status, 0.05, false, null);
    expect(counts(s)).toEqual({ 'GET /a 200': 4, 'POST /a 200': 1, 'GET /b 200': 1, 'GET /a 500': 1 });
    const a = s.series.find((x) => x.labels.path === '/a' && x.labels.method === 'GET' && x.labels.status === '200');
    expect(a?.sum).toBeCloseTo(0.2);
    expect([...(a?.counts ?? [])]).toEqual([4, 0]);
  });

  it('tells series apart by their per-request label values', () => {
    const s = store(10_000, ['tenant']);
    s.observe('GET', '/a', 200, 0.5, false, ['x']);
    s.observe('GET', '/a', 200, 0.5, false, ['y']);
    s.observe('GET', '/a', 200, 0.5, false, ['x']);
    expect(s.series.map((x) => [x.labels.tenant, x.count])).toEqual([
      ['x', 2],
      ['y', 1],
    ]);
  });

  it('after reset, counts land in new series that the exposition lists', () => {
    const s = store();
    s.observe('GET', '/a', 200, 0.05, false, null);
    s.reset();
    expect(s.series).toEqual([]);
    s.observe('GET', '/a', 200, 0.05, false, null);
    s.observe('GET', '/a', 200, 0.05, false, null);
    expect(counts(s)).toEqual({ 'GET /a 200': 2 });
  });

  it('past the route limit, folds new routes into the overflow series, and known routes still count in their own', () => {
    const s = store(2);
    for (const route of ['/a', '/b', '/c', '/d', '/a', '/c']) s.observe('GET', route, 200, 0.05, true, null);
    expect(counts(s)).toEqual({ 'GET /a 200': 2, 'GET /b 200': 1, [`GET ${OVERFLOW} 200`]: 3 });
    expect(s.series.map((x) => x.exceptions)).toEqual([2, 1, 3]);
  });
});
