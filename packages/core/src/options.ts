import type { IncomingMessage } from 'node:http';
import { resolveClient } from './client.js';
import { type ExemplarReader, resolveExemplars } from './exemplars.js';
import type { GroupByFunction, LabelFunction, LabelValue, MetricsOptions, PathPattern, PromClientLike, RegistryLike } from './types.js';

/** The flask exporter's buckets. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Every option, resolved once at creation; the request path only reads it. */
export interface ResolvedOptions<Req, Res> {
  path: string | null;
  exportDefaults: boolean;
  /** `''` or the prefix followed by `_`. */
  namePrefix: string;
  groupBy: 'path' | 'endpoint' | 'url' | GroupByFunction<Req>;
  routeLabelName: string;
  buckets: readonly number[];
  latencyAsHistogram: boolean;
  staticLabels: ReadonlyArray<readonly [string, string]>;
  dynamicLabels: ReadonlyArray<readonly [string, LabelFunction<Req, Res>]>;
  isExcluded: ((path: string) => boolean) | null;
  excludeUserDefaults: boolean;
  registry: RegistryLike;
  /** The client every metric is made with (see `resolveClient`). */
  client: PromClientLike;
  collectDefaultMetrics: boolean;
  authorize: ((req: Req | IncomingMessage) => boolean | Promise<boolean>) | null;
  seriesLimit: number;
  cluster: boolean;
  /** How the exemplar of a request is read; null when `exemplars` is off. */
  exemplars: ExemplarReader<Req, Res> | null;
}

const KNOWN_OPTIONS = new Set<string>([
  'path',
  'exportDefaults',
  'prefix',
  'groupBy',
  'buckets',
  'latencyAsHistogram',
  'defaultLabels',
  'excludedPaths',
  'excludeUserDefaults',
  'registry',
  'promClient',
  'collectDefaultMetrics',
  'authorize',
  'seriesLimit',
  'cluster',
  'exemplars',
]);

function fail(option: string, message: string): never {
  throw new TypeError(`prom-http: option "${option}" ${message}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return String(value);
}

function expectBoolean(option: string, value: unknown, fallback: boolean): boolean {
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
export const MAX_LABEL_LENGTH = 256;

/** A label value that is not one: the observation is dropped and counted as a label error. */
export class LabelValueError extends Error {
  override name = 'LabelValueError';
}

function ignore(): void {}

function cut(value: string): string {
  if (value.length <= MAX_LABEL_LENGTH) return value;
  // Cutting between the halves of a surrogate pair would leave half a character (exported as U+FFFD).
  const code = value.charCodeAt(MAX_LABEL_LENGTH - 1);
  return value.slice(0, code >= 0xd800 && code <= 0xdbff ? MAX_LABEL_LENGTH - 1 : MAX_LABEL_LENGTH);
}

/**
 * A label value as exported: numbers, booleans and bigints become strings, `null`/`undefined` `""`, an array of
 * strings its elements joined with `,`; cut at {@link MAX_LABEL_LENGTH} characters. Anything else (a promise,
 * an object, a function) throws a {@link LabelValueError}: `String()` of it would export `[object Promise]`.
 */
export function labelString(value: LabelValue): string {
  if (typeof value === 'string') return value.length <= MAX_LABEL_LENGTH ? value : cut(value);
  if (value === null || value === undefined) return '';
  const type = typeof value;
  if (type === 'number' || type === 'boolean' || type === 'bigint') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return cut(value.join(','));
  const then = (value as { then?: unknown }).then;
  if (typeof then === 'function') {
    // Nobody else will ever look at this promise: a rejection must not become an unhandled one.
    (then as (ok: () => void, ko: () => void) => void).call(value, ignore, ignore);
    throw new LabelValueError('returned a promise; label functions must return the value itself');
  }
  throw new LabelValueError(
    `returned ${Array.isArray(value) ? 'an array with values other than strings' : type === 'object' ? 'an object' : `a ${type}`}; label values are strings, numbers, booleans or null`,
  );
}

/** Splits label sources into static values and per-request functions, validating names. */
export function splitLabels<Req, Res>(
  option: string,
  labels: unknown,
): {
  staticLabels: Array<readonly [string, string]>;
  dynamicLabels: Array<readonly [string, LabelFunction<Req, Res>]>;
} {
  const staticLabels: Array<readonly [string, string]> = [];
  const dynamicLabels: Array<readonly [string, LabelFunction<Req, Res>]> = [];
  if (labels === undefined) return { staticLabels, dynamicLabels };
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    fail(option, `must be an object of label name -> value or (req, res) => value, got ${describe(labels)}`);
  }
  for (const [name, value] of Object.entries(labels)) {
    assertLabelName(option, name);
    if (typeof value === 'function') {
      dynamicLabels.push([name, value as LabelFunction<Req, Res>]);
    } else {
      try {
        staticLabels.push([name, labelString(value as LabelValue)]);
      } catch {
        fail(option, `label "${name}" must be a string, number, boolean, array of strings or function, got ${describe(value)}`);
      }
    }
  }
  return { staticLabels, dynamicLabels };
}

function toRegExp(option: string, pattern: unknown): RegExp {
  if (pattern instanceof RegExp) {
    // A global or sticky RegExp keeps state between test() calls: use a stateless copy.
    return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
  }
  if (typeof pattern !== 'string') fail(option, `must be a string, a RegExp or an array of them, got ${describe(pattern)}`);
  try {
    return new RegExp(`^(?:${pattern})`);
  } catch (error) {
    fail(option, `has an invalid regular expression ${describe(pattern)}: ${(error as Error).message}`);
  }
}

function compileExcluded(value: unknown): ((path: string) => boolean) | null {
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

/** Validates `options` and resolves every default; throws a TypeError naming the first bad option. */
export function resolveOptions<Req, Res>(options: MetricsOptions<Req, Res> | undefined): ResolvedOptions<Req, Res> {
  const opts = (options ?? {}) as Record<string, unknown>;
  if (typeof opts !== 'object' || Array.isArray(opts)) fail('options', `must be an object, got ${describe(opts)}`);
  for (const key of Object.keys(opts)) {
    if (!KNOWN_OPTIONS.has(key)) fail(key, `is not an option of prom-http (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  }

  let path: string | null = '/metrics';
  if (opts.path !== undefined) {
    if (opts.path !== null && (typeof opts.path !== 'string' || !opts.path.startsWith('/'))) {
      fail('path', `must be a string starting with "/" or null, got ${describe(opts.path)}`);
    }
    path = opts.path as string | null;
  }

  let namePrefix = '';
  if (opts.prefix !== undefined) {
    if (typeof opts.prefix !== 'string') fail('prefix', `must be a string, got ${describe(opts.prefix)}`);
    if (opts.prefix.startsWith('/')) {
      fail(
        'prefix',
        `is the prefix of the default metric names, not a URL path: the route of the metrics is option "path", got ${describe(opts.prefix)}`,
      );
    }
    if (opts.prefix !== '') {
      assertMetricName('prefix', opts.prefix);
      namePrefix = `${opts.prefix}_`;
    }
  }

  let groupBy: ResolvedOptions<Req, Res>['groupBy'] = 'path';
  let routeLabelName = 'path';
  if (opts.groupBy !== undefined) {
    if (typeof opts.groupBy === 'function') {
      const name = opts.groupBy.name;
      if (!name) fail('groupBy', 'function must be named: its name is the label name');
      assertLabelName('groupBy', name);
      groupBy = opts.groupBy as GroupByFunction<Req>;
      routeLabelName = name;
    } else if (opts.groupBy === 'path' || opts.groupBy === 'endpoint' || opts.groupBy === 'url') {
      groupBy = opts.groupBy;
      routeLabelName = opts.groupBy;
    } else {
      fail('groupBy', `must be 'path', 'endpoint', 'url' or a named function, got ${describe(opts.groupBy)}`);
    }
  }
  if (routeLabelName === 'method' || routeLabelName === 'status') {
    fail('groupBy', `function name "${routeLabelName}" clashes with a default label`);
  }

  let buckets = DEFAULT_BUCKETS;
  if (opts.buckets !== undefined) {
    const b = opts.buckets;
    if (
      !Array.isArray(b) ||
      b.length === 0 ||
      !b.every((x, i) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x > (b[i - 1] as number)))
    ) {
      fail('buckets', `must be a non-empty array of finite numbers in strictly ascending order, got ${JSON.stringify(b)}`);
    }
    buckets = Object.freeze([...b]) as readonly number[];
  }

  const { staticLabels, dynamicLabels } = splitLabels<Req, Res>('defaultLabels', opts.defaultLabels);
  for (const [name] of [...staticLabels, ...dynamicLabels]) {
    if (name === 'method' || name === 'status' || name === routeLabelName || name === 'le' || name === 'quantile') {
      fail('defaultLabels', `label "${name}" clashes with a label the default metrics already have`);
    }
  }

  let registry: RegistryLike | undefined;
  if (opts.registry !== undefined) {
    const r = opts.registry as Partial<RegistryLike> | null;
    if (!r || typeof r.registerMetric !== 'function' || typeof r.getSingleMetric !== 'function') {
      fail('registry', 'must be a Registry of prom-client or @prometheus-io/client');
    }
    registry = r as RegistryLike;
  }
  const client = resolveClient(opts.promClient, registry);

  let authorize: ResolvedOptions<Req, Res>['authorize'] = null;
  if (opts.authorize !== undefined) {
    if (typeof opts.authorize !== 'function') fail('authorize', `must be a function, got ${describe(opts.authorize)}`);
    authorize = opts.authorize as (req: Req | IncomingMessage) => boolean | Promise<boolean>;
  }

  let seriesLimit = 10_000;
  if (opts.seriesLimit !== undefined) {
    if (typeof opts.seriesLimit !== 'number' || !Number.isInteger(opts.seriesLimit) || opts.seriesLimit < 1) {
      fail('seriesLimit', `must be a positive integer, got ${describe(opts.seriesLimit)}`);
    }
    seriesLimit = opts.seriesLimit;
  }

  return {
    path,
    exportDefaults: expectBoolean('exportDefaults', opts.exportDefaults, true),
    namePrefix,
    groupBy,
    routeLabelName,
    buckets,
    latencyAsHistogram: expectBoolean('latencyAsHistogram', opts.latencyAsHistogram, true),
    staticLabels,
    dynamicLabels,
    isExcluded: compileExcluded(opts.excludedPaths),
    excludeUserDefaults: expectBoolean('excludeUserDefaults', opts.excludeUserDefaults, true),
    registry: registry ?? client.register,
    client,
    collectDefaultMetrics: expectBoolean('collectDefaultMetrics', opts.collectDefaultMetrics, true),
    authorize,
    seriesLimit,
    cluster: expectBoolean('cluster', opts.cluster, false),
    exemplars: resolveExemplars<Req, Res>(opts.exemplars, 'option "exemplars"'),
  };
}
