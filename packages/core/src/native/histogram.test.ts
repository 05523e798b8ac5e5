import { describe, expect, test } from 'vitest';
import { bucketKey, DEFAULT_ZERO_THRESHOLD, encodeBuckets, NativeHistogram, pickSchema, resolveNativeConfig } from './histogram.js';

/** A histogram with client_golang's settings for `factor`, fed `observations`. */
function observed(observations: number[], factor: number, settings: { zeroThreshold?: number; maxBuckets?: number } = {}) {
  const config = resolveNativeConfig('nativeHistograms', { bucketFactor: factor, maxBuckets: 160, ...settings });
  const h = new NativeHistogram(config!);
  for (const v of observations) h.observe(v);
  return {
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: h.zeroCount,
    positive: encodeBuckets(h.positive),
    negative: encodeBuckets(h.negative),
  };
}

const none = { spans: [], deltas: [] };

describe('pickSchema (client_golang)', () => {
  test.each([
    [1.0001, 8],
    [1.1, 3],
    [1.2, 2],
    [2, 0],
    [4, -1],
    [17, -2],
    [1e9, -4],
  ])('factor %d -> schema %d', (factor, schema) => {
    expect(pickSchema(factor)).toBe(schema);
  });
});

describe('bucketKey', () => {
  test('a value on a bound is in the bucket it ends (upper bounds are inclusive)', () => {
    expect(bucketKey(1, 3)).toBe(0);
    expect(bucketKey(2, 3)).toBe(8);
    expect(bucketKey(2, 0)).toBe(1);
    expect(bucketKey(4, -1)).toBe(1);
    // client_golang's bound 2^(1/2)/2 (and so Prometheus'), one unit below the correctly rounded sqrt(1/2).
    expect(bucketKey(0.7071067811865475, 1)).toBe(-1);
    expect(bucketKey(Math.SQRT1_2, 1)).toBe(0);
    // Schema 8, bound 1: 2^(1/256)/2 as client_golang writes it.
    expect(bucketKey(0.5013556375251013, 8)).toBe(-255);
    expect(bucketKey(0.5013556375251014, 8)).toBe(-254);
  });

  test('subnormals and the largest values', () => {
    // 2^-1074 = 0.5 * 2^-1073 is the upper bound of bucket -1074 * 8 at schema 3.
    expect(bucketKey(5e-324, 3)).toBe(-8592);
    expect(bucketKey(Number.MAX_VALUE, 2)).toBe(4096);
    expect(bucketKey(Number.POSITIVE_INFINITY, 2)).toBe(4097);
  });
});

describe('NativeHistogram, client_golang TestNativeHistogram scenarios', () => {
  test('factor 1.1 results in schema 3', () => {
    expect(observed([0, 1, 2, 3], 1.1)).toEqual({
      schema: 3,
      zeroThreshold: DEFAULT_ZERO_THRESHOLD,
      zeroCount: 1,
      positive: {
        spans: [
          [0, 1],
          [7, 1],
          [4, 1],
        ],
        deltas: [1, 0, 0],
      },
      negative: none,
    });
    expect(DEFAULT_ZERO_THRESHOLD).toBe(2.938735877055719e-39);
  });

  test('factor 1.2 results in schema 2', () => {
    expect(observed([0, 1, 1.2, 1.4, 1.8, 2], 1.2)).toMatchObject({
      schema: 2,
      zeroCount: 1,
      positive: { spans: [[0, 5]], deltas: [1, -1, 2, -2, 2] },
      negative: none,
    });
  });

  test('factor 4 results in schema -1', () => {
    const values = [0.0156251, 0.0625, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 3.5, 5, 6, 7, 33.33];
    expect(observed(values, 4)).toMatchObject({ schema: -1, zeroCount: 0, positive: { spans: [[-2, 6]], deltas: [2, 0, 0, 2, -1, -2] } });
  });

  test('factor 17 results in schema -2', () => {
    const values = [0.0156251, 0.0625, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 3.5, 5, 6, 7, 33.33];
    expect(observed(values, 17)).toMatchObject({ schema: -2, positive: { spans: [[-1, 4]], deltas: [2, 2, 3, -6] } });
  });

  test('negative and positive buckets', () => {
    expect(observed([0, -1, -1.2, -1.4, -1.8, -2, 1, 1.2, 1.4, 1.8, 2], 1.2)).toMatchObject({
      schema: 2,
      zeroCount: 1,
      positive: { spans: [[0, 5]], deltas: [1, -1, 2, -2, 2] },
      negative: { spans: [[0, 5]], deltas: [1, -1, 2, -2, 2] },
    });
  });

  test('wide zero bucket', () => {
    expect(observed([0, -1, -1.2, -1.4, -1.8, -2, 1, 1.2, 1.4, 1.8, 2], 1.2, { zeroThreshold: 1.4 })).toMatchObject({
      zeroThreshold: 1.4,
      zeroCount: 7,
      positive: { spans: [[4, 1]], deltas: [2] },
      negative: { spans: [[4, 1]], deltas: [2] },
    });
  });

  test('NaN is in no bucket', () => {
    expect(observed([0, 1, 1.2, 1.4, 1.8, 2, Number.NaN], 1.2)).toMatchObject({
      zeroCount: 1,
      positive: { spans: [[0, 5]], deltas: [1, -1, 2, -2, 2] },
    });
  });

  test('+Inf and -Inf observations', () => {
    expect(observed([0, 1, 1.2, 1.4, 1.8, 2, Number.POSITIVE_INFINITY], 1.2).positive).toEqual({
      spans: [
        [0, 5],
        [4092, 1],
      ],
      deltas: [1, -1, 2, -2, 2, -1],
    });
    expect(observed([0, 1, 1.2, 1.4, 1.8, 2, Number.NEGATIVE_INFINITY], 1.2).negative).toEqual({ spans: [[4097, 1]], deltas: [1] });
  });

  test('limited buckets but nothing triggered', () => {
    expect(observed([0, 1, 1.2, 1.4, 1.8, 2], 1.2, { maxBuckets: 4 })).toMatchObject({
      schema: 2,
      positive: { spans: [[0, 5]], deltas: [1, -1, 2, -2, 2] },
    });
  });

  test('buckets limited by halving resolution', () => {
    expect(observed([0, 1, 1.1, 1.2, 1.4, 1.8, 2, 3], 1.2, { maxBuckets: 4 })).toMatchObject({
      schema: 1,
      zeroCount: 1,
      positive: { spans: [[0, 5]], deltas: [1, 2, -1, -2, 1] },
    });
    expect(observed([0, -1, -1.1, -1.2, -1.4, -1.8, -2, -3], 1.2, { maxBuckets: 4 })).toMatchObject({
      schema: 1,
      negative: { spans: [[0, 5]], deltas: [1, 2, -1, -2, 1] },
    });
  });

  test('the resolution never goes below schema -4', () => {
    const h = observed([1e-300, 1e-200, 1e-100, 1, 1e100, 1e200, 1e300], 1.1, { maxBuckets: 1 });
    expect(h.schema).toBe(-4);
  });
});

describe('merge', () => {
  test('the sum of two series is the series of all their observations, at the coarser schema', () => {
    const a = [0, 0.001, 0.013, 0.2, 0.2, 1.7, 3];
    const b = [0.004, 0.2, 0.9, 12];
    const fine = new NativeHistogram(resolveNativeConfig('x', { bucketFactor: 1.1 })!);
    const coarse = new NativeHistogram(resolveNativeConfig('x', { bucketFactor: 1.5 })!);
    const all = new NativeHistogram(resolveNativeConfig('x', { bucketFactor: 1.5 })!);
    for (const v of a) fine.observe(v);
    for (const v of b) coarse.observe(v);
    for (const v of [...a, ...b]) all.observe(v);
    expect(fine.schema).toBe(3);
    expect(coarse.schema).toBe(1);
    fine.merge(coarse);
    expect(fine.schema).toBe(1);
    expect(fine.zeroCount).toBe(1);
    expect(encodeBuckets(fine.positive)).toEqual(encodeBuckets(all.positive));
  });

  test('a wider zero bucket takes in the buckets it covers', () => {
    const narrow = new NativeHistogram(resolveNativeConfig('x', { bucketFactor: 1.2 })!);
    const wide = new NativeHistogram(resolveNativeConfig('x', { bucketFactor: 1.2, zeroThreshold: 1 })!);
    for (const v of [0.5, 1, 2]) narrow.observe(v);
    wide.observe(0.25);
    narrow.merge(wide);
    expect(narrow.zeroThreshold).toBe(1);
    expect(narrow.zeroCount).toBe(3);
    expect([...narrow.positive]).toEqual([[4, 1]]);
  });

  test('clone copies the buckets', () => {
    const h = new NativeHistogram(resolveNativeConfig('x', true)!);
    h.observe(0.3);
    const copy = h.clone();
    h.observe(0.3);
    expect([...copy.positive.values()]).toEqual([1]);
    expect([...h.positive.values()]).toEqual([2]);
  });
});

describe('resolveNativeConfig', () => {
  test('defaults', () => {
    expect(resolveNativeConfig('nativeHistograms', true)).toEqual({ schema: 3, zeroThreshold: 2 ** -128, maxBuckets: 160 });
    expect(resolveNativeConfig('nativeHistograms', false)).toBeNull();
    expect(resolveNativeConfig('nativeHistograms', undefined)).toBeNull();
  });

  test.each([
    ['yes', /option "nativeHistograms" must be a boolean or an object/],
    [{ bucketFactor: 1 }, /"nativeHistograms" \.bucketFactor must be a finite number above 1/],
    [{ maxBuckets: 0 }, /\.maxBuckets must be a positive integer/],
    [{ zeroThreshold: -1 }, /\.zeroThreshold must be a finite number of at least 0/],
    [{ factor: 2 }, /has no setting "factor"/],
  ])('%j throws a TypeError naming the option', (value, message) => {
    expect(() => resolveNativeConfig('nativeHistograms', value)).toThrow(TypeError);
    expect(() => resolveNativeConfig('nativeHistograms', value)).toThrow(message);
  });
});
