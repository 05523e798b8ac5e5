import type { ServerResponse } from 'node:http';
import type { ProgressCell } from './families.js';
import type { Watched } from './response-watch.js';

/** What finishes a record (the engine that started it). */
export interface RecordOwner {
  endRecord(record: RequestRecord, status: number): void;
  skipAll(record: RequestRecord): void;
}

/** A custom metric wrapper entered by a request, waiting for the response to finish. */
export interface EnteredWrapper {
  readonly metric: {
    finish(entry: EnteredWrapper, req: unknown, res: unknown, now: number): void;
  };
  /** `performance.now()` when the request entered the wrapper. */
  readonly start: number;
  /** Label values fixed on entry (gauges), else null. */
  readonly labels: Record<string, string> | null;
}

/**
 * What one request carries from its start to its finish. One small object per recorded request; every field
 * is set in the constructor (declared, not initialized, in the class body), so making one is a single
 * function with one store per field.
 */
export class RequestRecord implements Watched {
  /** `performance.now()` at the request's start. */
  declare readonly start: number;
  /** The method label's value: the request's method, or `''` when `labelNames.method` is `false`. */
  declare readonly method: string;
  /** The in-progress cell incremented at the start, or null when the default metrics skip this request. */
  declare cell: ProgressCell | null;
  /** Record the default metrics for this request. */
  declare defaults: boolean;
  /** Run custom metrics for this request. */
  declare customs: boolean;
  /** The error the handler threw, rejected with or passed on (`undefined` when none). */
  declare error: unknown;
  declare hasError: boolean;
  /** The route label a wrapper or the route's config set (`routeLabel`), else null: the route reader's. */
  declare route: string | null;
  declare entered: EnteredWrapper[] | null;
  declare finished: boolean;
  /**
   * The framework's request and response, and the Node response whose end finishes the record. An adapter that
   * starts the record from Node's request (before the framework made its own) sets them once it has them.
   */
  declare req: unknown;
  declare res: unknown;
  declare readonly raw: ServerResponse | null;
  declare readonly owner: RecordOwner | null;

  constructor(
    start: number,
    method: string,
    cell: ProgressCell | null,
    req: unknown,
    res: unknown,
    raw: ServerResponse | null,
    owner: RecordOwner | null,
  ) {
    this.start = start;
    this.method = method;
    this.cell = cell;
    this.defaults = cell !== null;
    this.customs = true;
    this.error = undefined;
    this.hasError = false;
    this.route = null;
    this.entered = null;
    this.finished = false;
    this.req = req;
    this.res = res;
    this.raw = raw;
    this.owner = owner;
  }

  /** The response is done (status as sent) or the client left first (499). */
  end(status: number): void {
    this.owner?.endRecord(this, status);
  }

  /** The request is a scrape of a prom-http endpoint: no metric at all. */
  skip(): void {
    this.owner?.skipAll(this);
  }

  /** The handler threw, rejected or passed `error` on. The first error of a request is kept. */
  fail(error: unknown): void {
    if (this.hasError) return;
    this.hasError = true;
    this.error = error;
  }
}

/** An error whose 4xx status says the client, not the app, was at fault. */
export function isClientError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { status?: unknown; statusCode?: unknown };
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** The request path of a URL, without its query string (`excludedPaths` and `groupBy: 'url'` read it). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
