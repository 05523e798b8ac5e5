/** The checks every option goes through: each failure is a TypeError naming the option. */
import type { PathPattern } from './types.js';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throws the TypeError of a bad option: `prom-http: option "x" ...`. */
export function fail(option: string, message: string): never {
  throw new TypeError(`prom-http: option "${option}" ${message}`);
}

/** A value as an error message shows it. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return String(value);
}

export function expectBoolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(option, `must be a boolean, got ${describe(value)}`);
  return value;
}

/** Throws a TypeError naming `option` unless `name` is a valid Prometheus metric name. */
export function assertMetricName(option: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    fail(option, `must be a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got ${describe(name)}`);
  }
}

/** Throws a TypeError naming `option` unless `name` is a valid Prometheus label name. */
export function assertLabelName(option: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !LABEL_NAME.test(name) || name.startsWith('__')) {
    fail(option, `has an invalid label name ${describe(name)} (must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __)`);
  }
}

/** Longest label value exported: longer ones are cut here, so a request cannot put a megabyte into every scrape. */
export function toRegExp(option: string, pattern: unknown): RegExp {
  if (pattern instanceof RegExp) {
    // A global or sticky RegExp keeps state between test() calls: use a stateless copy.
    return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
  }
  if (typeof pattern !== 'string') fail(option, `must be a string, a RegExp or an array of them, got ${describe(pattern)}`);
  return compile(option, `^(?:${pattern})`, pattern);
}

/** `new RegExp(source)`, or a TypeError naming `option` and what the app gave (`given`). */
export function compile(option: string, source: string, given: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    fail(option, `has an invalid regular expression ${describe(given)}: ${(error as Error).message}`);
  }
}

export function compileExcluded(value: unknown): ((path: string) => boolean) | null {
  if (value === undefined || value === null) return null;
  const patterns = (Array.isArray(value) ? value : [value]) as PathPattern[];
  if (patterns.length === 0) return null;
  const regexps = patterns.map((pattern) => toRegExp('excludedPaths', pattern));
  if (regexps.every((re) => re.flags === '')) {
    const combined = new RegExp(regexps.map((re) => `(?:${re.source})`).join('|'));
    return function isExcluded(path) {
      return combined.test(path);
    };
  }
  return function isExcluded(path) {
    for (const re of regexps) if (re.test(path)) return true;
    return false;
  };
}

export function expectObject(option: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(option, `must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

export function expectKeys(option: string, value: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) fail(option, `has an unknown key "${key}" (known: ${keys.join(', ')})`);
  }
}

export function expectFunction<F>(option: string, value: unknown): F | null {
  if (value === undefined) return null;
  if (typeof value !== 'function') fail(option, `must be a function, got ${describe(value)}`);
  return value as F;
}

export function expectPositive(option: string, value: unknown, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    fail(option, `must be a positive ${integer ? 'integer' : 'number'}, got ${describe(value)}`);
  }
  return value;
}

export function expectAscending(option: string, b: unknown): number[] {
  if (
    !Array.isArray(b) ||
    b.length === 0 ||
    !b.every((x, i) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x > (b[i - 1] as number)))
  ) {
    fail(option, `must be a non-empty array of finite numbers in strictly ascending order, got ${JSON.stringify(b)}`);
  }
  return [...b] as number[];
}

/** `prefix` and `metricNames` give the names, `help` the texts. */
