/**
 * Prometheus native (sparse exponential) histogram buckets of one series, as client_golang keeps them: bucket `k`
 * of schema `s` holds the values in `(2^((k-1)/2^s), 2^(k/2^s)]` (negative values mirrored), values within
 * `zeroThreshold` of zero are counted in the zero bucket, and only buckets with observations exist. Count and sum
 * are the classic histogram's, which the native one is kept beside.
 */

import { SCHEMA_8_BOUNDS } from './bounds.js';

/** Coarsest and finest schema Prometheus accepts. */
const MIN_SCHEMA = -4;
const MAX_SCHEMA = 8;

/** client_golang's `DefNativeHistogramZeroThreshold`: 2^-128. */
export const DEFAULT_ZERO_THRESHOLD = 2 ** -128;
const DEFAULT_BUCKET_FACTOR = 1.1;
const DEFAULT_MAX_BUCKETS = 160;

/** The settings of the native buckets, resolved and validated once. */
export interface NativeConfig {
  /** Initial schema: the finest one whose growth factor does not exceed `bucketFactor`. */
  readonly schema: number;
  readonly zeroThreshold: number;
  /** Most populated buckets (positive and negative) before the resolution is halved. */
  readonly maxBuckets: number;
}

/**
 * The largest schema in [-4, 8] whose bucket growth factor `2^(2^-schema)` is at most `bucketFactor`
 * (client_golang's `pickSchema`).
 */
export function pickSchema(bucketFactor: number): number {
  const floor = Math.floor(Math.log2(Math.log2(bucketFactor)));
  if (floor <= -MAX_SCHEMA) return MAX_SCHEMA;
  if (floor >= -MIN_SCHEMA) return MIN_SCHEMA;
  return 0 - floor;
}

/** The settings of `nativeHistograms: true`. */
export const DEFAULT_NATIVE_CONFIG: NativeConfig = Object.freeze({
  schema: pickSchema(DEFAULT_BUCKET_FACTOR),
  zeroThreshold: DEFAULT_ZERO_THRESHOLD,
  maxBuckets: DEFAULT_MAX_BUCKETS,
});

/**
 * Resolves `true` (`whenTrue`) or `{ bucketFactor, maxBuckets, zeroThreshold }` (`false`/undefined: null). Throws
 * a TypeError naming `option` (and `where`, e.g. ` of metric "x"`) for anything else.
 */
export function resolveNativeConfig(option: string, value: unknown, whenTrue = DEFAULT_NATIVE_CONFIG, where = ''): NativeConfig | null {
  if (value === undefined || value === false) return null;
  if (value === true) return whenTrue;
  const fail = (message: string): never => {
    throw new TypeError(`prom-http: option "${option}"${where} ${message}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(`must be a boolean or an object { bucketFactor, maxBuckets, zeroThreshold }, got ${String(value)}`);
  }
  const {
    bucketFactor = DEFAULT_BUCKET_FACTOR,
    maxBuckets = DEFAULT_MAX_BUCKETS,
    zeroThreshold = DEFAULT_ZERO_THRESHOLD,
    ...rest
  } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) fail(`has no setting "${unknown[0]}" (known: bucketFactor, maxBuckets, zeroThreshold)`);
  if (typeof bucketFactor !== 'number' || !(bucketFactor > 1) || !Number.isFinite(bucketFactor)) {
    fail(`.bucketFactor must be a finite number above 1, got ${String(bucketFactor)}`);
  }
  if (typeof maxBuckets !== 'number' || !Number.isInteger(maxBuckets) || maxBuckets < 1) {
    fail(`.maxBuckets must be a positive integer, got ${String(maxBuckets)}`);
  }
  if (typeof zeroThreshold !== 'number' || !(zeroThreshold >= 0) || !Number.isFinite(zeroThreshold)) {
    fail(`.zeroThreshold must be a finite number of at least 0, got ${String(zeroThreshold)}`);
  }
  return { schema: pickSchema(bucketFactor as number), zeroThreshold: zeroThreshold as number, maxBuckets: maxBuckets as number };
}

const boundsBySchema: Array<Float64Array | undefined> = [];

/** The bucket bounds of a positive schema (see `SCHEMA_8_BOUNDS`), taken on first use. */
function boundsFor(schema: number): Float64Array {
  let bounds = boundsBySchema[schema];
  if (bounds === undefined) {
    const step = 2 ** (MAX_SCHEMA - schema);
    bounds = Float64Array.from({ length: 2 ** schema }, (_, j) => SCHEMA_8_BOUNDS[j * step] as number);
    boundsBySchema[schema] = bounds;
  }
  return bounds;
}

const float = new Float64Array(1);
const words = new Uint32Array(float.buffer);
/** Index of the high word (sign, exponent, top of the mantissa) in `words`. */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * The bucket of the positive finite `v` at `schema` (client_golang's key: `frexp`, then the fraction's bucket
 * within its power of two).
 */
export function bucketKey(v: number, schema: number): number {
  if (v === Number.POSITIVE_INFINITY) return bucketKey(Number.MAX_VALUE, schema) + 1;
  float[0] = v;
  let biased = (words[HIGH] as number) >>> 20;
  let shift = 0;
  if (biased === 0) {
    // Subnormal: scale into the normal range, then take the scaling back out of the exponent.
    float[0] = v * 2 ** 64;
    biased = (words[HIGH] as number) >>> 20;
    shift = 64;
  }
  // frexp: v = frac * 2^exp with frac in [0.5, 1).
  const exp = biased - 1022 - shift;
  words[HIGH] = ((words[HIGH] as number) & 0x800fffff) | (1022 << 20);
  const frac = float[0] as number;
  if (schema > 0) {
    const bounds = boundsFor(schema);
    // The first bound at or above frac (sort.SearchFloat64s).
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((bounds[mid] as number) < frac) lo = mid + 1;
      else hi = mid;
    }
    return lo + (exp - 1) * bounds.length;
  }
  const key = frac === 0.5 ? exp - 1 : exp;
  const offset = (1 << -schema) - 1;
  return (key + offset) >> -schema;
}

/** The key at `schema - by` of the bucket `key`: the coarser bucket is `ceil(key / 2^by)`. */
function coarser(key: number, by: number): number {
  return Math.ceil(key / 2 ** by);
}

/** Adds `count` to bucket `key` of `buckets`. */
function add(buckets: Map<number, number>, key: number, count: number): void {
  buckets.set(key, (buckets.get(key) ?? 0) + count);
}

/** Spans and deltas of a bucket map, as the protobuf exposition carries them. */
interface EncodedBuckets {
  /** `[offset, length]` pairs: offset from the end of the previous span (from 0 for the first). */
  spans: Array<[number, number]>;
  /** Each bucket's count minus the previous bucket's (the first: minus 0). */
  deltas: number[];
}

/**
 * Encodes buckets as client_golang's `makeBuckets` does: gaps of one or two empty buckets are written as empty
 * buckets inside a span (cheaper than a new span), longer gaps start a new span.
 */
export function encodeBuckets(buckets: ReadonlyMap<number, number>): EncodedBuckets {
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const spans: Array<[number, number]> = [];
  const deltas: number[] = [];
  let previous = 0;
  let next = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number;
    const gap = key - next;
    if (i === 0 || gap > 2) {
      spans.push([gap, 0]);
    } else {
      for (let j = 0; j < gap; j++) {
        (spans[spans.length - 1] as [number, number])[1]++;
        deltas.push(-previous);
        previous = 0;
      }
    }
    const count = buckets.get(key) as number;
    (spans[spans.length - 1] as [number, number])[1]++;
    deltas.push(count - previous);
    previous = count;
    next = key + 1;
  }
  return { spans, deltas };
}

/** The native buckets of one histogram series. */
export class NativeHistogram {
  schema: number;
  zeroThreshold: number;
  zeroCount = 0;
  readonly positive = new Map<number, number>();
  readonly negative = new Map<number, number>();
  constructor(readonly config: NativeConfig) {
    this.schema = config.schema;
    this.zeroThreshold = config.zeroThreshold;
  }

  /** Counts `v` in its bucket (NaN in none: it only makes the classic sum NaN). */
  observe(v: number): void {
    if (v > this.zeroThreshold) this.addTo(this.positive, bucketKey(v, this.schema));
    else if (v < -this.zeroThreshold) this.addTo(this.negative, bucketKey(-v, this.schema));
    else if (!Number.isNaN(v)) this.zeroCount++;
  }

  private addTo(buckets: Map<number, number>, key: number): void {
    const count = buckets.get(key);
    if (count !== undefined) {
      buckets.set(key, count + 1);
      return;
    }
    buckets.set(key, 1);
    if (this.positive.size + this.negative.size > this.config.maxBuckets) this.limit();
  }

  /** Halves the resolution until the populated buckets fit in `maxBuckets` (or the schema is the coarsest). */
  private limit(): void {
    while (this.positive.size + this.negative.size > this.config.maxBuckets && this.schema > MIN_SCHEMA) this.reduceTo(this.schema - 1);
  }

  /** Brings the buckets to the coarser `schema`, adding up the buckets that merge. */
  reduceTo(schema: number): void {
    if (schema >= this.schema) return;
    const by = this.schema - schema;
    for (const buckets of [this.positive, this.negative]) {
      const old = [...buckets];
      buckets.clear();
      for (const [key, count] of old) add(buckets, coarser(key, by), count);
    }
    this.schema = schema;
  }

  /**
   * Adds `other`'s buckets (the sum of two series, e.g. over cluster workers): both are brought to the coarser
   * schema and the wider zero bucket first; buckets that the wider zero bucket covers move into it.
   */
  merge(other: NativeHistogram): void {
    const schema = Math.min(this.schema, other.schema);
    this.reduceTo(schema);
    const by = other.schema - schema;
    if (other.zeroThreshold > this.zeroThreshold) this.widenZeroBucket(other.zeroThreshold);
    this.zeroCount += other.zeroCount;
    for (const [key, count] of other.positive) add(this.positive, coarser(key, by), count);
    for (const [key, count] of other.negative) add(this.negative, coarser(key, by), count);
    if (other.zeroThreshold < this.zeroThreshold) this.widenZeroBucket(this.zeroThreshold);
    this.limit();
  }

  /** Moves the buckets whose upper bound is within `threshold` of zero into the zero bucket. */
  private widenZeroBucket(threshold: number): void {
    this.zeroThreshold = threshold;
    for (const buckets of [this.positive, this.negative]) {
      for (const [key, count] of buckets) {
        if (2 ** (key / 2 ** this.schema) <= threshold) {
          this.zeroCount += count;
          buckets.delete(key);
        }
      }
    }
  }

  /** A copy with its own buckets. */
  clone(): NativeHistogram {
    const copy = new NativeHistogram(this.config);
    copy.merge(this);
    return copy;
  }
}
