import type { IncomingMessage } from 'node:http';
import { resolveClient } from './client.js';
import { labelString, splitLabels } from './label-values.js';
import { type NativeConfig, resolveNativeConfig } from './native/histogram.js';
import {
  assertLabelName,
  assertMetricName,
  compile,
  compileExcluded,
  describe,
  expectAscending,
  expectBoolean,
  expectFunction,
  expectKeys,
  expectObject,
  expectPositive,
  fail,
} from './option-checks.js';
import { type ExemplarReader, resolveExemplars } from './request/exemplars.js';
import { DEFAULT_METRICS, UNMATCHED } from './request/series-store.js';
import type { GroupByFunction, LabelFunction, LabelValue, MetricsOptions, PromClientLike, RegistryLike } from './types.js';

/** The flask exporter's buckets. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Full names or help texts of the default metrics, resolved. */
export type DefaultTexts = { readonly [K in keyof typeof DEFAULT_METRICS]: string };

/** The summary's own settings (`latencyAsHistogram: false`), only those given. */
export interface SummarySettings {
  percentiles?: number[];
  maxAgeSeconds?: number;
  ageBuckets?: number;
  pruneAgedBuckets?: boolean;
}

/** Every option, resolved once at creation; the request path only reads it. */
export interface ResolvedOptions<Req, Res> {
  path: string | null;
  exportDefaults: boolean;
  /** Full names of the default metrics (`prefix` and `metricNames` applied). */
  names: DefaultTexts;
  help: DefaultTexts;
  groupBy: 'path' | 'endpoint' | 'url' | GroupByFunction<Req>;
  routeLabelName: string;
  /** The method label's name, null when dropped (`labelNames: { method: false }`). */
  methodLabelName: string | null;
  /** The status label's name, null when dropped. */
  statusLabelName: string | null;
  statusFormat: 'code' | 'class' | ((status: number, req: Req, res: Res) => LabelValue);
  buckets: readonly number[];
  latencyAsHistogram: boolean;
  summary: SummarySettings;
  staticLabels: ReadonlyArray<readonly [string, string]>;
  dynamicLabels: ReadonlyArray<readonly [string, LabelFunction<Req, Res>]>;
  isExcluded: ((path: string) => boolean) | null;
  excludedMethods: ReadonlySet<string> | null;
  skip: ((req: Req, res: Res) => boolean) | null;
  normalizePath: ReadonlyArray<readonly [RegExp, string]> | null;
  unmatchedLabel: string;
  excludeUserDefaults: boolean;
  registry: RegistryLike;
  /** The client every metric is made with (see `resolveClient`). */
  client: PromClientLike;
  /** The client's `collectDefaultMetrics` options, or null for none. */
  collectDefaultMetrics: Record<string, unknown> | null;
  authorize: ((req: Req | IncomingMessage) => boolean | Promise<boolean>) | null;
  seriesLimit: number;
  cluster: boolean;
  /** Native buckets of the duration histogram, and the settings of custom histograms' `native: true`; null when off. */
  nativeHistograms: NativeConfig | null;
  /** How the exemplar of a request is read; null when `exemplars` is off. */
  exemplars: ExemplarReader<Req, Res> | null;
}

/** The options that shape only the default metrics: those `exportDefaults(options)` takes later. */
export const DEFAULT_METRIC_OPTIONS: ReadonlySet<string> = new Set([
  'prefix',
  'groupBy',
  'buckets',
  'latencyAsHistogram',
  'skip',
  'excludedMethods',
  'statusFormat',
  'labelNames',
  'metricNames',
  'help',
  'percentiles',
  'maxAgeSeconds',
  'ageBuckets',
  'pruneAgedBuckets',
  'normalizePath',
  'unmatchedLabel',
  'exemplars',
]);

const KNOWN_OPTIONS = new Set<string>([
  'path',
  'exportDefaults',
  ...DEFAULT_METRIC_OPTIONS,
  'defaultLabels',
  'excludedPaths',
  'excludeUserDefaults',
  'registry',
  'promClient',
  'collectDefaultMetrics',
  'authorize',
  'seriesLimit',
  'cluster',
  'nativeHistograms',
]);

/** Options that one adapter has and the others do not, for a clearer message than "not an option". */
const ADAPTER_OPTIONS: Readonly<Record<string, string>> = { endpointOptions: '@prom-http/fastify' };

function resolveTexts(opts: Record<string, unknown>): { names: DefaultTexts; help: DefaultTexts } {
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
  const keys = Object.keys(DEFAULT_METRICS) as Array<keyof typeof DEFAULT_METRICS>;
  const givenNames = opts.metricNames === undefined ? {} : expectObject('metricNames', opts.metricNames);
  const givenHelp = opts.help === undefined ? {} : expectObject('help', opts.help);
  expectKeys('metricNames', givenNames, keys);
  expectKeys('help', givenHelp, keys);
  const names = {} as Record<keyof typeof DEFAULT_METRICS, string>;
  const help = {} as Record<keyof typeof DEFAULT_METRICS, string>;
  const taken = new Map<string, string>();
  for (const key of keys) {
    const name = givenNames[key];
    if (name !== undefined) assertMetricName(`metricNames.${key}`, name);
    names[key] = name ?? namePrefix + DEFAULT_METRICS[key].name;
    const other = taken.get(names[key]);
    if (other !== undefined) fail('metricNames', `gives "${names[key]}" to both ${other} and ${key}`);
    taken.set(names[key], key);
    const text = givenHelp[key];
    if (text !== undefined && (typeof text !== 'string' || text === ''))
      fail(`help.${key}`, `must be a non-empty string, got ${describe(text)}`);
    help[key] = text ?? DEFAULT_METRICS[key].help;
  }
  return { names, help };
}

/** `groupBy` and `labelNames`: what the route label holds and what each default label is called. */
function resolveLabels<Req>(opts: Record<string, unknown>) {
  const given = opts.labelNames === undefined ? {} : expectObject('labelNames', opts.labelNames);
  expectKeys('labelNames', given, ['method', 'status', 'route']);
  let groupBy: ResolvedOptions<Req, unknown>['groupBy'] = 'path';
  let routeLabelName = 'path';
  if (opts.groupBy !== undefined) {
    if (typeof opts.groupBy === 'function') {
      groupBy = opts.groupBy as GroupByFunction<Req>;
      // A function written in the options (`groupBy: (req) => ...`) is named "groupBy" by the language, not by the app.
      if (given.route === undefined && (!groupBy.name || groupBy.name === 'groupBy')) {
        fail(
          'groupBy',
          `function must be named, as its name is the label name (a function written inline in the options gets the name "groupBy"): write \`groupBy: function route(req) { ... }\` or give labelNames.route`,
        );
      }
      routeLabelName = groupBy.name;
    } else if (opts.groupBy === 'path' || opts.groupBy === 'endpoint' || opts.groupBy === 'url') {
      groupBy = opts.groupBy;
      routeLabelName = opts.groupBy;
    } else {
      fail('groupBy', `must be 'path', 'endpoint', 'url' or a named function, got ${describe(opts.groupBy)}`);
    }
  }
  if (given.route !== undefined) routeLabelName = given.route as string;
  assertLabelName(given.route === undefined ? 'groupBy' : 'labelNames', routeLabelName);
  const option = Object.keys(given).length > 0 ? 'labelNames' : 'groupBy';
  const names: Record<'method' | 'status', string | null> = { method: 'method', status: 'status' };
  for (const key of ['method', 'status'] as const) {
    const name = given[key];
    if (name === false) names[key] = null;
    else if (name !== undefined) {
      assertLabelName('labelNames', name);
      names[key] = name;
    }
  }
  const all = [names.method, routeLabelName, names.status].filter((n): n is string => n !== null);
  for (const name of all) {
    if (all.indexOf(name) !== all.lastIndexOf(name)) fail(option, `gives two default labels the name "${name}"`);
    if (name === 'le' || name === 'quantile') fail(option, `uses "${name}", a label name histograms and summaries reserve`);
  }
  return { groupBy, routeLabelName, methodLabelName: names.method, statusLabelName: names.status };
}

/** `buckets`, `latencyAsHistogram` and the summary's settings, which apply only with `latencyAsHistogram: false`. */
function resolveDuration(opts: Record<string, unknown>) {
  const latencyAsHistogram = expectBoolean('latencyAsHistogram', opts.latencyAsHistogram, true);
  const buckets = opts.buckets === undefined ? DEFAULT_BUCKETS : Object.freeze(expectAscending('buckets', opts.buckets));
  const summary: SummarySettings = {};
  for (const key of ['percentiles', 'maxAgeSeconds', 'ageBuckets', 'pruneAgedBuckets'] as const) {
    if (opts[key] !== undefined && latencyAsHistogram)
      fail(key, 'is a setting of the summary: it applies only with latencyAsHistogram: false');
  }
  if (opts.percentiles !== undefined) {
    const p = opts.percentiles;
    if (!Array.isArray(p) || p.length === 0 || !p.every((q) => typeof q === 'number' && q > 0 && q <= 1)) {
      fail('percentiles', `must be a non-empty array of numbers in (0, 1], got ${JSON.stringify(p)}`);
    }
    summary.percentiles = [...p];
  }
  const maxAgeSeconds = expectPositive('maxAgeSeconds', opts.maxAgeSeconds, false);
  const ageBuckets = expectPositive('ageBuckets', opts.ageBuckets, true);
  if (ageBuckets !== undefined && maxAgeSeconds === undefined) fail('ageBuckets', 'needs maxAgeSeconds (the window it divides)');
  if (maxAgeSeconds !== undefined) summary.maxAgeSeconds = maxAgeSeconds;
  if (ageBuckets !== undefined) summary.ageBuckets = ageBuckets;
  if (opts.pruneAgedBuckets !== undefined) summary.pruneAgedBuckets = expectBoolean('pruneAgedBuckets', opts.pruneAgedBuckets, false);
  return { buckets, latencyAsHistogram, summary };
}

/** `normalizePath`: compiled `[RegExp, replacement]` pairs. */
function resolveNormalizePath(value: unknown): Array<readonly [RegExp, string]> | null {
  if (value === undefined) return null;
  const shape = 'must be an array of [pattern, replacement] pairs (pattern: a RegExp or a regular expression source)';
  if (!Array.isArray(value)) fail('normalizePath', `${shape}, got ${describe(value)}`);
  const pairs = value.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[1] !== 'string')
      fail('normalizePath', `${shape}, got ${JSON.stringify(pair)}`);
    const [pattern, replacement] = pair as [unknown, string];
    if (pattern instanceof RegExp) {
      // A sticky RegExp keeps state between calls: use a stateless copy.
      return [pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace('y', '')) : pattern, replacement] as const;
    }
    if (typeof pattern !== 'string') fail('normalizePath', `${shape}, got ${describe(pattern)}`);
    return [compile('normalizePath', pattern, pattern), replacement] as const;
  });
  return pairs.length === 0 ? null : pairs;
}

function resolveExcludedMethods(value: unknown): ReadonlySet<string> | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || !value.every((m) => typeof m === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(m))) {
    fail('excludedMethods', `must be an array of HTTP method names, got ${describe(value)}`);
  }
  return value.length === 0 ? null : new Set(value.map((m: string) => m.toUpperCase()));
}

function resolveStatusFormat<Req, Res>(value: unknown): ResolvedOptions<Req, Res>['statusFormat'] {
  if (value === undefined || value === 'code' || value === 'class' || typeof value === 'function') {
    return (value ?? 'code') as ResolvedOptions<Req, Res>['statusFormat'];
  }
  fail('statusFormat', `must be 'code', 'class' or a function (status, req, res) => value, got ${describe(value)}`);
}

function resolveCollection(value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === true) return {};
  if (value === false) return null;
  const given = expectObject('collectDefaultMetrics', value);
  expectKeys('collectDefaultMetrics', given, ['prefix', 'labels', 'gcDurationBuckets', 'eventLoopMonitoringPrecision']);
  const out: Record<string, unknown> = {};
  if (given.prefix !== undefined && given.prefix !== '') {
    assertMetricName('collectDefaultMetrics.prefix', given.prefix);
    out.prefix = given.prefix;
  }
  if (given.labels !== undefined) {
    const labels = expectObject('collectDefaultMetrics.labels', given.labels);
    for (const [name, v] of Object.entries(labels)) {
      assertLabelName('collectDefaultMetrics.labels', name);
      if (typeof v !== 'string' && typeof v !== 'number')
        fail('collectDefaultMetrics.labels', `label "${name}" must be a string or number`);
    }
    out.labels = { ...labels };
  }
  if (given.gcDurationBuckets !== undefined)
    out.gcDurationBuckets = expectAscending('collectDefaultMetrics.gcDurationBuckets', given.gcDurationBuckets);
  const precision = expectPositive('collectDefaultMetrics.eventLoopMonitoringPrecision', given.eventLoopMonitoringPrecision, true);
  if (precision !== undefined) out.eventLoopMonitoringPrecision = precision;
  return out;
}

function resolvePath(value: unknown): string | null {
  if (value === undefined) return '/metrics';
  if (value !== null && (typeof value !== 'string' || !value.startsWith('/'))) {
    fail('path', `must be a string starting with "/" or null, got ${describe(value)}`);
  }
  return value as string | null;
}

function resolveRegistry(value: unknown): RegistryLike | undefined {
  if (value === undefined) return undefined;
  const r = value as Partial<RegistryLike> | null;
  if (!r || typeof r.registerMetric !== 'function' || typeof r.getSingleMetric !== 'function') {
    fail('registry', 'must be a Registry of prom-client or @prometheus-io/client');
  }
  return r as RegistryLike;
}

function checkKeys(opts: Record<string, unknown>, adapterOptions: readonly string[]): void {
  for (const key of Object.keys(opts)) {
    if (KNOWN_OPTIONS.has(key) || adapterOptions.includes(key)) continue;
    const owner = ADAPTER_OPTIONS[key];
    if (owner !== undefined) fail(key, `is an option of ${owner} only`);
    fail(key, `is not an option of prom-http (known: ${[...KNOWN_OPTIONS, ...adapterOptions].join(', ')})`);
  }
}

/**
 * Validates `options` and resolves every default; throws a TypeError naming the first bad option.
 * `adapterOptions`: the options the calling adapter reads itself (Fastify's `endpointOptions`).
 */
export function resolveOptions<Req, Res>(
  options: MetricsOptions<Req, Res> | undefined,
  adapterOptions: readonly string[] = [],
): ResolvedOptions<Req, Res> {
  const opts = (options ?? {}) as Record<string, unknown>;
  if (typeof opts !== 'object' || Array.isArray(opts)) fail('options', `must be an object, got ${describe(opts)}`);
  checkKeys(opts, adapterOptions);
  const labels = resolveLabels<Req>(opts);
  const { staticLabels, dynamicLabels } = splitLabels<Req, Res>('defaultLabels', opts.defaultLabels);
  const defaultNames = [labels.methodLabelName, labels.statusLabelName, labels.routeLabelName, 'le', 'quantile'];
  for (const [name] of [...staticLabels, ...dynamicLabels]) {
    if (defaultNames.includes(name)) fail('defaultLabels', `label "${name}" clashes with a label the default metrics already have`);
  }
  const registry = resolveRegistry(opts.registry);
  const client = resolveClient(opts.promClient, registry);
  const seriesLimit = expectPositive('seriesLimit', opts.seriesLimit, true) ?? 10_000;
  if (opts.unmatchedLabel !== undefined && typeof opts.unmatchedLabel !== 'string') {
    fail('unmatchedLabel', `must be a string, got ${describe(opts.unmatchedLabel)}`);
  }
  return {
    path: resolvePath(opts.path),
    exportDefaults: expectBoolean('exportDefaults', opts.exportDefaults, true),
    ...resolveTexts(opts),
    ...labels,
    statusFormat: resolveStatusFormat<Req, Res>(opts.statusFormat),
    ...resolveDuration(opts),
    staticLabels,
    dynamicLabels,
    isExcluded: compileExcluded(opts.excludedPaths),
    excludedMethods: resolveExcludedMethods(opts.excludedMethods),
    skip: expectFunction('skip', opts.skip),
    normalizePath: resolveNormalizePath(opts.normalizePath),
    unmatchedLabel: opts.unmatchedLabel === undefined ? UNMATCHED : labelString(opts.unmatchedLabel as string),
    excludeUserDefaults: expectBoolean('excludeUserDefaults', opts.excludeUserDefaults, true),
    registry: registry ?? client.register,
    client,
    collectDefaultMetrics: resolveCollection(opts.collectDefaultMetrics),
    authorize: expectFunction('authorize', opts.authorize),
    seriesLimit,
    cluster: expectBoolean('cluster', opts.cluster, false),
    nativeHistograms: resolveNativeConfig('nativeHistograms', opts.nativeHistograms),
    exemplars: resolveExemplars<Req, Res>(opts.exemplars, 'option "exemplars"'),
  };
}

/**
 * The options of an instance created with `exportDefaults: false` once `exportDefaults(later)` turns the default
 * metrics on: `later` may hold only default-metric options, which win over the instance's.
 */
export function resolveLaterDefaults<Req, Res>(
  options: MetricsOptions<Req, Res> | undefined,
  later: unknown,
  adapterOptions: readonly string[] = [],
): ResolvedOptions<Req, Res> {
  const given = later === undefined ? {} : expectObject('exportDefaults', later);
  for (const key of Object.keys(given)) {
    if (!DEFAULT_METRIC_OPTIONS.has(key)) {
      fail(
        key,
        KNOWN_OPTIONS.has(key)
          ? 'is an option of the instance, not of the default metrics: give it when creating the instance'
          : `is not an option of the default metrics (known: ${[...DEFAULT_METRIC_OPTIONS].join(', ')})`,
      );
    }
  }
  return resolveOptions({ ...options, ...given, exportDefaults: true } as MetricsOptions<Req, Res>, adapterOptions);
}
