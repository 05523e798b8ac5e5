import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { warnOnce } from '../diagnostics.js';
import { type ByteWriter, exemplarText, type FamilyData } from '../exposition/text-format.js';
import type { ExemplarFunction } from '../types.js';
import type { ProgressCell } from './families.js';
import { type RecordOwner, RequestRecord } from './record.js';
import type { Series } from './series-store.js';

/** The labels of one exemplar: `{ trace_id, span_id }` of a span, or what an exemplar function gave. */
export type ExemplarLabels = Readonly<Record<string, string>>;

/**
 * One exemplar, shaped as the client's (`labelSet`, `value`, `timestamp` in seconds), so that the client's
 * renderer and prom-http's read it alike.
 */
export class Exemplar {
  constructor(
    public labelSet: ExemplarLabels,
    public value: number,
    public timestamp: number,
  ) {}
}

/**
 * The latest exemplar of each bucket of one series' duration histogram and of its request count; null where
 * no request with an exemplar has landed yet. What the OpenMetrics text renders, and what a protobuf encoder
 * reads: `buckets[i]` belongs to the bucket of bound `buckets[i]` of the store, the last one to `+Inf`.
 */
export class SeriesExemplars {
  readonly buckets: Array<Exemplar | null>;
  /** The exemplar of `http_request_total` (its value is the increment: 1). */
  total: Exemplar | null = null;
  constructor(bucketCount: number) {
    this.buckets = new Array<Exemplar | null>(bucketCount + 1).fill(null);
  }
}

/** How the exemplar of a request is read, resolved once from the `exemplars` option. */
export interface ExemplarReader<Req, Res> {
  /** Reads the active span when the request reaches the middleware (`exemplars: true`), else null. */
  readonly atStart: (() => ExemplarLabels | null) | null;
  /** Reads the exemplar from the request once its response is done (`exemplars` a function), else null. */
  readonly atFinish: ((req: Req, res: Res) => ExemplarLabels | null) | null;
}

/** OpenMetrics: the label names and values of an exemplar, together, are at most 128 UTF-8 characters. */
export const MAX_EXEMPLAR_LENGTH = 128;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The bit of `traceFlags` that says the trace is sampled (W3C Trace Context). */
const SAMPLED = 1;

/** The part of `@opentelemetry/api` read here (any 1.x has it); structural, so the declarations need no OpenTelemetry. */
interface OpenTelemetryApi {
  trace: { getSpan(context: unknown): { spanContext(): SpanContextLike } | undefined };
  context: { active(): unknown };
  isSpanContextValid(spanContext: SpanContextLike): boolean;
}
interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** `require` of this module's location: the app's `@opentelemetry/api`, loaded synchronously at creation. */
const requireHere = createRequire(import.meta.url);

/**
 * A reader of the span active now, from `@opentelemetry/api` (any copy of 1.x: they share the app's context
 * manager through a global). Sampled spans only: an exemplar of a trace no backend kept links nowhere.
 * `where` names the option in the TypeError thrown when the package is missing.
 */
export function openTelemetrySpan(where: string, load: (id: string) => unknown = requireHere): () => ExemplarLabels | null {
  let api: Partial<OpenTelemetryApi>;
  try {
    api = load('@opentelemetry/api') as Partial<OpenTelemetryApi>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new TypeError(
      `prom-http: ${where} is true, which reads the active span of @opentelemetry/api, but @opentelemetry/api is not installed: ` +
        'npm install @opentelemetry/api, or give a function (req, res) => ({ trace_id, span_id }) for another tracer',
      { cause: error },
    );
  }
  const { trace, context, isSpanContextValid } = api;
  if (typeof trace?.getSpan !== 'function' || typeof context?.active !== 'function' || typeof isSpanContextValid !== 'function') {
    throw new TypeError(`prom-http: ${where} needs @opentelemetry/api 1.x; the installed one has no trace.getSpan or isSpanContextValid`);
  }
  return function activeSpanExemplar() {
    const span = trace.getSpan(context.active());
    if (span === undefined) return null;
    const spanContext = span.spanContext();
    if ((spanContext.traceFlags & SAMPLED) === 0 || !isSpanContextValid(spanContext)) return null;
    return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
  };
}

function ignore(): void {}

/**
 * The labels an exemplar function returned, checked: null (and a warning once) when they are not labels, or
 * longer than {@link MAX_EXEMPLAR_LENGTH}; null, silently, for `undefined`, `null` or `{}`.
 */
export function exemplarLabels(value: unknown): ExemplarLabels | null {
  if (value === undefined || value === null) return null;
  const proto = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    // Nobody else will look at a returned promise: its rejection must not become an unhandled one.
    const then = (value as { then?: unknown }).then;
    if (typeof then === 'function') (then as (ok: () => void, ko: () => void) => void).call(value, ignore, ignore);
    warnOnce(
      'PROMHTTP_EXEMPLAR_ERROR',
      `prom-http: an exemplar function returned ${describe(value)}, not labels; no exemplar is kept for it`,
    );
    return null;
  }
  const labels: Record<string, string> = {};
  // UTF-16 units, as the client counts: never fewer than the code points OpenMetrics counts.
  let length = 0;
  let count = 0;
  for (const name of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[name];
    const why = !LABEL_NAME.test(name) || name.startsWith('__') ? `the invalid label name ${JSON.stringify(name)}` : labelProblem(v);
    if (why !== null) {
      warnOnce('PROMHTTP_EXEMPLAR_ERROR', `prom-http: an exemplar function returned ${why}; no exemplar is kept for it`);
      return null;
    }
    const text = typeof v === 'string' ? v : String(v);
    labels[name] = text;
    length += name.length + text.length;
    count++;
  }
  if (count === 0) return null;
  if (length > MAX_EXEMPLAR_LENGTH) {
    warnOnce(
      'PROMHTTP_EXEMPLAR_TOO_LONG',
      `prom-http: exemplar labels of ${length} characters dropped; OpenMetrics allows ${MAX_EXEMPLAR_LENGTH} for the names and values of an exemplar together`,
    );
    return null;
  }
  return labels;
}

/** Why `value` is not an exemplar label value (a string, a finite number or a boolean), or null. */
function labelProblem(value: unknown): string | null {
  const type = typeof value;
  if (type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(value))) return null;
  return `${describe(value)} as a label value`;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof (value as { then?: unknown }).then === 'function') return 'a promise';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The `exemplars` option resolved: null when off (`undefined` or `false`). `where` names the option in the
 * TypeError for a bad value or a missing `@opentelemetry/api`.
 */
export function resolveExemplars<Req, Res>(value: unknown, where: string): ExemplarReader<Req, Res> | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { atStart: openTelemetrySpan(where), atFinish: null };
  if (typeof value !== 'function') {
    throw new TypeError(`prom-http: ${where} must be a boolean or a function (req, res) => labels | undefined, got ${String(value)}`);
  }
  const read = value as ExemplarFunction<Req, Res>;
  return {
    atStart: null,
    atFinish: function exemplarOfRequest(req, res) {
      let labels: unknown;
      try {
        labels = read(req, res);
      } catch (error) {
        warnOnce(
          'PROMHTTP_EXEMPLAR_ERROR',
          `prom-http: an exemplar function threw (${error instanceof Error ? error.message : String(error)}); no exemplar is kept for that request`,
        );
        return null;
      }
      return exemplarLabels(labels);
    },
  };
}

/** A request's record that keeps the exemplar of the span active when the request reached the middleware. */
export class TracedRecord extends RequestRecord {
  declare exemplar: ExemplarLabels | null;
  constructor(
    start: number,
    method: string,
    cell: ProgressCell | null,
    req: unknown,
    res: unknown,
    raw: ServerResponse | null,
    owner: RecordOwner | null,
    exemplar: ExemplarLabels | null,
  ) {
    super(start, method, cell, req, res, raw, owner);
    this.exemplar = exemplar;
  }
}

/** The exemplars of the default request families: the latest one per series, per bucket and for the count. */
export class RequestExemplars<Req, Res> {
  constructor(
    readonly reader: ExemplarReader<Req, Res>,
    /** The duration histogram's bounds, or null when the duration is a Summary (which has no exemplars). */
    private readonly buckets: readonly number[] | null,
  ) {}

  /** Records the exemplar of a request just counted in `series`, taking `seconds`. */
  observe(series: Series, seconds: number, record: RequestRecord, req: Req, res: Res): void {
    const { atFinish } = this.reader;
    const labels = atFinish !== null ? atFinish(req, res) : record instanceof TracedRecord ? record.exemplar : null;
    if (labels === null) return;
    const timestamp = Date.now() / 1000;
    const buckets = this.buckets;
    let exemplars = series.exemplars;
    if (exemplars === null) {
      exemplars = new SeriesExemplars(buckets === null ? 0 : buckets.length);
      series.exemplars = exemplars;
    }
    exemplars.total = latest(exemplars.total, labels, 1, timestamp);
    if (buckets === null) return;
    let i = 0;
    while (i < buckets.length && seconds > (buckets[i] as number)) i++;
    exemplars.buckets[i] = latest(exemplars.buckets[i] ?? null, labels, seconds, timestamp);
  }
}

/** `exemplar` updated in place (a scrape sees either the old or the new one whole), or a new one. */
function latest(exemplar: Exemplar | null, labels: ExemplarLabels, value: number, timestamp: number): Exemplar {
  if (exemplar === null) return new Exemplar(labels, value, timestamp);
  exemplar.labelSet = labels;
  exemplar.value = value;
  exemplar.timestamp = timestamp;
  return exemplar;
}

/** Ends a sample line with `exemplar`, when there is one. */
export function writeExemplar(w: ByteWriter, exemplar: Exemplar | null | undefined): void {
  if (exemplar != null) w.str(exemplarText(exemplar));
}

/**
 * Puts the exemplars of a series on its samples as `getForPromString()` gives them (`values[first + i]` the
 * bucket `i`, the `+Inf` one last), so that the client's renderer, and ours on its slow path, show them too.
 */
export function attachBucketExemplars(values: NonNullable<FamilyData['values']>, first: number, exemplars: SeriesExemplars): void {
  const { buckets } = exemplars;
  for (let i = 0; i < buckets.length; i++) {
    const sample = values[first + i];
    if (sample !== undefined) sample.exemplar = buckets[i] ?? null;
  }
}
