import type { Registry } from 'prom-client';

/** A metric family as prom-client's `get()`/`getForPromString()` give it. */
export interface FamilyData {
  name: string;
  help: string;
  type: string;
  values?: Array<{
    value: number;
    labels?: Record<string, string | number>;
    sharedLabels?: Record<string, string | number>;
    metricName?: string;
    exemplar?: { labelSet: Record<string, string | number>; value: number; timestamp?: number } | null;
  }>;
  aggregator?: string;
}

/** Renders itself without building prom-client's intermediate objects; see `renderFamily`. */
export interface FastFamily {
  readonly name: string;
  readonly type: string;
  /** The family's exposition, byte-identical to what prom-client renders for the same data, without the trailing newline. */
  render(openMetrics: boolean): string;
}

export const kFastRender = Symbol.for('prom-http.fastRender');

/** Escapes a HELP text or metric name the way prom-client does. */
export function escapeString(str: string): string {
  return str.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** Escapes a label value the way prom-client does. */
export function escapeLabelValue(value: string): string {
  return NEEDS_ESCAPE.test(value) ? escapeString(value).replace(/"/g, '\\"') : value;
}

/** prom-client's number formatting (including its spelling of NaN). */
export function valueString(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** `name="value",…` in insertion order. */
export function labelText(labels: Record<string, string | number>, exclude?: Record<string, unknown>): string {
  let out = '';
  for (const name in labels) {
    if (exclude && Object.hasOwn(exclude, name)) continue;
    const value = labels[name];
    out += `${out ? ',' : ''}${name}="${typeof value === 'string' ? escapeLabelValue(value) : value}"`;
  }
  return out;
}

/** HELP and TYPE lines; OpenMetrics names a counter family without its `_total`. */
export function familyHeader(name: string, help: string, type: string, openMetrics: boolean): string {
  const familyName = escapeString(openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name);
  return `# HELP ${familyName} ${escapeString(help)}\n# TYPE ${familyName} ${type}`;
}

/** The registry's default labels (prom-client keeps them in a private field). */
export function registryDefaultLabels(registry: Registry): Record<string, string | number> | null {
  const labels = (registry as unknown as { _defaultLabels?: Record<string, string | number> })._defaultLabels;
  return labels && Object.keys(labels).length > 0 ? labels : null;
}

/** Renders one family exactly as prom-client's `Registry#getMetricsAsString` does (minus the registry's counter renaming). */
export function renderFamily(data: FamilyData, defaultLabels: Record<string, string | number> | null, openMetrics: boolean): string {
  const isCounter = data.type === 'counter';
  const baseName = escapeString(openMetrics && isCounter ? data.name.replace(/_total$/, '') : data.name);
  let out = familyHeader(data.name, data.help, data.type, openMetrics);
  for (const val of data.values ?? []) {
    let metricName = val.metricName ?? baseName;
    if (openMetrics && isCounter) metricName = `${metricName}_total`;
    let labels = val.labels ?? {};
    if (defaultLabels) labels = { ...labels, ...defaultLabels, ...labels };
    const shared = val.sharedLabels ?? {};
    const own = labelText(labels, shared);
    const sharedText = labelText(shared);
    const all = own && sharedText ? `${own},${sharedText}` : own || sharedText;
    out += `\n${metricName}${all ? `{${all}}` : ''} ${valueString(val.value)}`;
    if (openMetrics && val.exemplar) {
      out += ` # {${labelText(val.exemplar.labelSet)}} ${valueString(val.exemplar.value)} ${val.exemplar.timestamp}`;
    }
  }
  return out;
}
