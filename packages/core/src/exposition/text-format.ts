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
    exemplar?: ExemplarData | null;
  }>;
  aggregator?: string;
}

/**
 * Builds an exposition as UTF-8 bytes. Large expositions are made of hundreds of thousands of short pieces:
 * copying bytes into one buffer is several times faster than concatenating (and then flattening) strings.
 */
export class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + needed));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Appends bytes; short ones by a plain loop, which beats a native copy call at these sizes. */
  bytes(src: Uint8Array): void {
    const n = src.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    let p = this.pos;
    if (n < 16) {
      for (let i = 0; i < n; i++) buf[p++] = src[i] as number;
      this.pos = p;
    } else {
      buf.set(src, p);
      this.pos = p + n;
    }
  }

  /** Appends a string as UTF-8. */
  str(value: string): void {
    const max = value.length * 3;
    if (this.pos + max > this.buf.length) this.grow(max);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  /** Appends a sample value formatted as prom-client formats it. */
  value(n: number): void {
    // Counts are non-negative integers: write their digits without making a string.
    if (n >= 0 && n <= 0x7fffffff && Number.isInteger(n)) {
      if (this.pos + 10 > this.buf.length) this.grow(10);
      const buf = this.buf;
      if (n < 10) {
        buf[this.pos++] = 48 + n;
        return;
      }
      let digits = 0;
      for (let m = n; m > 0; m = (m / 10) | 0) digits++;
      let p = this.pos + digits;
      this.pos = p;
      for (let m = n; m > 0; m = (m / 10) | 0) buf[--p] = 48 + (m % 10);
      return;
    }
    this.str(valueString(n));
  }

  /** The bytes written so far. */
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Renders itself straight into bytes, without building prom-client's intermediate objects; see `renderFamily`. */
export interface FastFamily {
  readonly name: string;
  readonly type: string;
  /** Writes the family's exposition, byte-identical to prom-client's for the same data, without a trailing newline. */
  renderTo(writer: ByteWriter, openMetrics: boolean): void;
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

/** `name="value",...` in insertion order. */
export function labelText(labels: Record<string, string | number>, exclude?: Record<string, unknown>): string {
  let out = '';
  for (const name in labels) {
    if (exclude && Object.hasOwn(exclude, name)) continue;
    const value = labels[name];
    out += `${out ? ',' : ''}${name}="${typeof value === 'string' ? escapeLabelValue(value) : value}"`;
  }
  return out;
}

/** What the client stores of an exemplar (prom-http's own exemplars have the same shape). */
export interface ExemplarData {
  labelSet: Record<string, string | number>;
  value: number;
  timestamp?: number;
}

/** An exemplar as it ends an OpenMetrics sample line: ` # {trace_id="…",span_id="…"} value timestamp`, as the client writes it. */
export function exemplarText(exemplar: ExemplarData): string {
  return ` # {${labelText(exemplar.labelSet)}} ${valueString(exemplar.value)} ${exemplar.timestamp}`;
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
    if (openMetrics && val.exemplar) out += exemplarText(val.exemplar);
  }
  return out;
}
