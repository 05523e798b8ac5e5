// Beside migrate.mjs, for the fastify-metrics and prometheus_flask_exporter samples: an exposition read as
// families (type, help text and series), compared with `le` and `quantile` as numbers, as Python's
// prometheus_client writes them differently; and requests that include a HEAD and a route that throws.

/**
 * The families of an exposition (text format 0.0.4, as prom-client or Python's prometheus_client render it):
 * `Map<family, { type, help, series: [{ name, labels, value }] }>`. A sample line belongs to the family of the
 * last `# TYPE` line before it.
 */
export function parse(text) {
  const families = new Map();
  const help = new Map();
  let current;
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'HELP') help.set(meta[2], meta[3]);
      else {
        current = { type: meta[3], help: help.get(meta[2]), series: [] };
        families.set(meta[2], current);
      }
      continue;
    }
    if (line === '' || line.startsWith('#') || current === undefined) continue;
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const name = open === -1 ? line.slice(0, line.indexOf(' ')) : line.slice(0, open);
    const labels = {};
    if (open !== -1) {
      for (const [, key, value] of line.slice(open + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    }
    current.series.push({ name, labels, value: Number(line.slice((open === -1 ? name.length : close + 1) + 1)) });
  }
  return families;
}

/**
 * The series of `family` as sorted strings `name{a="1",b="2"}`, with the labels sorted and `le` and `quantile`
 * compared as numbers (Python writes `le="1.0"`, prom-client `le="1"`). `withValues` appends each value.
 */
export function seriesOf(families, family, { withValues = false } = {}) {
  const f = families.get(family);
  if (f === undefined) throw new Error(`no family ${family} in the exposition`);
  return f.series
    .map(({ name, labels, value }) => {
      const pairs = Object.keys(labels)
        .sort()
        .map((k) => `${k}="${k === 'le' || k === 'quantile' ? Number(labels[k]) : labels[k]}"`);
      return `${name}{${pairs.join(',')}}${withValues ? ` ${value}` : ''}`;
    })
    .sort();
}

/**
 * The requests a guide's "before" app and its prom-http app both get, as `METHOD /path`: a route with two ids,
 * a route that throws, a HEAD, a 404, and a route the app keeps out of its metrics.
 */
export const REQUESTS = ['GET /users/1', 'GET /users/2', 'GET /users/2', 'HEAD /users/1', 'GET /fail', 'GET /nope', 'GET /health'];

/** Sends {@link REQUESTS} to `url`, one after the other; the statuses. */
export async function sendRequests(url) {
  const statuses = [];
  for (const request of REQUESTS) {
    const [method, path] = request.split(' ');
    const response = await fetch(`${url}${path}`, { method });
    await response.arrayBuffer();
    statuses.push(response.status);
  }
  return statuses;
}
