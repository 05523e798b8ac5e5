// The apps compared, in the order each round runs them. `route` is how the library labels GET /users/:id,
// which the harness looks for in /metrics to be sure the library really recorded the load. `optIn` rows run
// only when named in --only: they take prom-http's cost apart (floor of its design, prom-client's presence).

/** An opt-in reference row: an app in apps/ of the same name built on lib/floor-*.mjs, counting GET /users/:id. */
function floorRow(framework, name) {
  return { name, framework, app: name, route: '"/users/:id"', reference: true, optIn: true };
}

/**
 * @typedef {{ name: string, framework: string, app: string, route?: string, bare?: boolean, ours?: boolean,
 *   reference?: boolean, control?: boolean, optIn?: boolean }} Variant
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
];

/** What a variant is in the result tables: `bare`, `prom-http`, `peer`, `reference` or `control`. */
export function kindOf(variant) {
  if (variant.bare) return 'bare';
  if (variant.control) return 'control';
  if (variant.reference) return 'reference';
  return variant.ours ? 'prom-http' : 'peer';
}

/** A result row's name in a table: a control row names the app it runs again. */
export function rowLabel(row) {
  return row.kind === 'control' ? `control (${row.app})` : row.variant;
}

/** The variants named (comma-separated), plus the bare framework of each, which every ratio needs. */
export function select(only) {
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
  const frameworks = new Set(VARIANTS.filter((v) => names.has(v.name)).map((v) => v.framework));
  return VARIANTS.filter((v) => names.has(v.name) || (v.bare && frameworks.has(v.framework)));
}
