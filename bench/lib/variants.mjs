// The apps compared, in the order each round runs them. `route` is how the library labels GET /users/:id,
// which the harness looks for in /metrics to be sure the library really recorded the load. `optIn` rows run
// only when named in --only: they take prom-http's cost apart (floor of its design, prom-client's presence).

/** An opt-in reference row: an app in apps/ of the same name built on lib/floor-*.mjs, counting GET /users/:id. */
function floorRow(framework, name) {
  return { name, framework, app: name, route: '"/users/:id"', reference: true, optIn: true };
}

/** The W3C trace context the harness sends when an exemplars row runs: the row reads its exemplar from it. */
export const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/**
 * The same app with another build of prom-http (`--baseline DIR`: a checkout of an earlier commit, installed
 * and built), to compare two versions of prom-http in one run.
 */
function baselineRow(framework) {
  const name = `${framework}-prom-http`;
  return { name: `${name}-baseline`, framework, app: name, route: '"/users/:id"', baseline: true, optIn: true };
}

/** prom-http with one of its opt-in options on (`native`: nativeHistograms, `exemplars`: exemplars). */
function optionRow(framework, option) {
  const name = `${framework}-prom-http-${option}`;
  const headers = option === 'exemplars' ? { traceparent: TRACEPARENT } : undefined;
  return { name, framework, app: name, route: '"/users/:id"', ours: true, optIn: true, headers };
}

/**
 * @typedef {{ name: string, framework: string, app: string, route?: string, bare?: boolean, ours?: boolean,
 *   reference?: boolean, control?: boolean, optIn?: boolean, baseline?: boolean,
 *   headers?: Record<string, string> }} Variant
 * @type {Variant[]}
 */
export const VARIANTS = [
  { name: 'express-bare', framework: 'express', app: 'express-bare', bare: true },
  { name: 'express-prom-http', framework: 'express', app: 'express-prom-http', route: '"/users/:id"', ours: true },
  { name: 'express-prom-bundle', framework: 'express', app: 'express-prom-bundle', route: '"/users/:id"' },
  { name: 'express-promster', framework: 'express', app: 'express-promster', route: '"/users/#val"' },
  // The floor of any middleware-based instrumentation: one Express layer that only calls next().
  { name: 'express-empty-middleware', framework: 'express', app: 'express-empty-middleware', reference: true },
  { name: 'express-control', framework: 'express', app: 'express-bare', control: true },
  // What prom-http's hooks into Node and Express cost with nothing recorded; then with prom-client loaded; then
  // with its default metrics too.
  floorRow('express', 'express-floor'),
  floorRow('express', 'express-prom-client-loaded'),
  // prom-client's two default metrics that work between scrapes, each alone.
  floorRow('express', 'express-gc-observer'),
  floorRow('express', 'express-event-loop-delay'),
  floorRow('express', 'express-prom-client'),
  // express-prom-client plus the two clock reads a duration needs.
  floorRow('express', 'express-floor-clock'),
  // Bare Express with as much more live heap as prom-client and prom-http hold, and nothing else.
  { name: 'express-retained-heap', framework: 'express', app: 'express-retained-heap', reference: true, optIn: true },
  // The least a library can record on Express with prom-http's design (one histogram by route), default metrics on.
  { name: 'express-minimal', framework: 'express', app: 'express-minimal', route: '"/users/:id"', reference: true, optIn: true },
  // The same with prom-http loaded and set up but not mounted: its presence in the process without its work.
  {
    name: 'express-minimal-prom-http-loaded',
    framework: 'express',
    app: 'express-minimal-prom-http-loaded',
    route: '"/users/:id"',
    reference: true,
    optIn: true,
  },
  // prom-http's defaults without prom-client's default (process) metrics: its request metrics alone.
  {
    name: 'express-prom-http-no-default-metrics',
    framework: 'express',
    app: 'express-prom-http-no-default-metrics',
    route: '"/users/:id"',
    reference: true,
    optIn: true,
  },
  baselineRow('express'),
  optionRow('express', 'native'),
  optionRow('express', 'exemplars'),
  { name: 'fastify-bare', framework: 'fastify', app: 'fastify-bare', bare: true },
  { name: 'fastify-prom-http', framework: 'fastify', app: 'fastify-prom-http', route: '"/users/:id"', ours: true },
  { name: 'fastify-metrics', framework: 'fastify', app: 'fastify-metrics', route: '"/users/:id"' },
  { name: 'fastify-promster', framework: 'fastify', app: 'fastify-promster', route: '"/users/#val"' },
  { name: 'fastify-control', framework: 'fastify', app: 'fastify-bare', control: true },
  floorRow('fastify', 'fastify-floor'),
  floorRow('fastify', 'fastify-prom-client-loaded'),
  // prom-client's two default metrics that work between scrapes, each alone.
  floorRow('fastify', 'fastify-gc-observer'),
  floorRow('fastify', 'fastify-event-loop-delay'),
  floorRow('fastify', 'fastify-prom-client'),
  baselineRow('fastify'),
  optionRow('fastify', 'native'),
  optionRow('fastify', 'exemplars'),
];

/** What a variant is in the result tables: `bare`, `prom-http`, `baseline`, `peer`, `reference` or `control`. */
export function kindOf(variant) {
  if (variant.bare) return 'bare';
  if (variant.baseline) return 'baseline';
  if (variant.control) return 'control';
  if (variant.reference) return 'reference';
  return variant.ours ? 'prom-http' : 'peer';
}

/** A result row's name in a table: a control row names the app it runs again. */
export function rowLabel(row) {
  return row.kind === 'control' ? `control (${row.app})` : row.variant;
}

/**
 * The variants named (comma-separated), plus the bare framework of each, which every ratio needs. A baseline row
 * needs `baselineDir` (the scripts that take `--baseline DIR` pass it; the others refuse the rows).
 */
export function select(only, baselineDir) {
  if (!only) return VARIANTS.filter((v) => !v.optIn);
  const names = new Set(
    only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const name of names) {
    if (!VARIANTS.some((v) => v.name === name))
      throw new Error(`unknown variant ${name}; known: ${VARIANTS.map((v) => v.name).join(', ')}`);
  }
  for (const v of VARIANTS) {
    if (v.baseline && names.has(v.name) && !baselineDir)
      throw new Error(`${v.name} needs --baseline DIR (a checkout of prom-http with its packages built), in run.mjs or instructions.mjs`);
  }
  const frameworks = new Set(VARIANTS.filter((v) => names.has(v.name)).map((v) => v.framework));
  return VARIANTS.filter((v) => names.has(v.name) || (v.bare && frameworks.has(v.framework)));
}

/** What a variant's server process needs in its environment: PROMHTTP_DIR for a baseline row, nothing for the others. */
export function envOf(variant, baselineDir) {
  return variant.baseline ? { PROMHTTP_DIR: baselineDir } : {};
}

/**
 * The headers every request of a run carries: those any of its variants needs (the exemplars rows' traceparent),
 * sent to all of them, so that every variant parses the same requests.
 */
export function headersOf(variants) {
  return Object.assign({}, ...variants.map((v) => v.headers ?? {}));
}
