import type { Registry } from 'prom-client';
import { resolveClient } from './client.js';
import { renderExposition } from './exposition/exposition.js';
import { PROTOBUF_CONTENT_TYPE } from './exposition/protobuf.js';
import { hasNativeSeries } from './native/series.js';
import type { DeleteFromGatewayOptions, PushToGatewayOptions } from './types.js';

/** A push or delete that did not succeed: the gateway could not be reached, or answered with an error status. */
export class PushgatewayError extends Error {
  /** Always `'PushgatewayError'`. */
  override readonly name = 'PushgatewayError';
  /** The URL of the request that failed. */
  readonly url: string;
  /** The gateway's status code; undefined when it could not be reached. */
  readonly status: number | undefined;
  /** The first 1 KB of the gateway's answer (the rest is not read); undefined when it could not be reached. */
  readonly body: string | undefined;
  constructor(message: string, url: string, status?: number, body?: string, options?: ErrorOptions) {
    super(message, options);
    this.url = url;
    this.status = status;
    this.body = body;
  }
}

const DEFAULT_TIMEOUT = 10_000;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PUSH_OPTIONS = new Set(['job', 'groupings', 'timeout', 'headers', 'registry', 'method']);
const DELETE_OPTIONS = new Set(['job', 'groupings', 'timeout', 'headers']);

/** Values sent as they are: RFC 3986 unreserved characters, which no router, proxy or URL parser rewrites. */
const PLAIN_VALUE = /^[A-Za-z0-9._~-]+$/;

/**
 * One path segment pair of the grouping key. A value of unreserved characters goes as it is, so the URL stays
 * readable in errors and in the gateway's log; any other value goes base64url-encoded behind the `@base64`
 * suffix, as the Pushgateway documents: `/` would split the path, an empty value would vanish from it, `.` and
 * `..` would be resolved away by the URL parser (landing in another group), and percent-encoded forms of them
 * are decoded by some proxies. The empty value is `=`, the form the gateway requires for it.
 */
function segment(name: string, value: string): string {
  if (PLAIN_VALUE.test(value) && value !== '.' && value !== '..') return `${name}/${value}`;
  return `${name}@base64/${value === '' ? '=' : Buffer.from(value, 'utf8').toString('base64url')}`;
}

/** Validates the options and builds the URL of the group. */
function groupUrl(fn: string, gateway: string, options: DeleteFromGatewayOptions, known: ReadonlySet<string>): URL {
  let base: URL;
  try {
    base = new URL(gateway);
  } catch {
    throw new TypeError(`prom-http: ${fn} needs the Pushgateway's URL (http://host:9091), got ${JSON.stringify(gateway)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`prom-http: ${fn} needs an http or https URL, got ${gateway}`);
  }
  if (typeof options !== 'object' || options === null) throw new TypeError(`prom-http: ${fn} needs options with a "job"`);
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new TypeError(`prom-http: ${fn} has no option "${name}"`);
  }
  const { job, groupings = {}, timeout = DEFAULT_TIMEOUT } = options;
  if (typeof job !== 'string' || job === '')
    throw new TypeError(`prom-http: ${fn} option "job" must be a non-empty string, got ${JSON.stringify(job)}`);
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new TypeError(`prom-http: ${fn} option "timeout" must be a positive number of milliseconds, got ${timeout}`);
  }
  if (typeof groupings !== 'object' || groupings === null) throw new TypeError(`prom-http: ${fn} option "groupings" must be an object`);
  let path = `/metrics/${segment('job', job)}`;
  for (const [name, value] of Object.entries(groupings)) {
    if (!LABEL_NAME.test(name) || name === 'job' || name.startsWith('__')) {
      throw new TypeError(`prom-http: ${fn} option "groupings" has an invalid label name "${name}"`);
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new TypeError(`prom-http: ${fn} option "groupings" label "${name}" must be a string or a number`);
    }
    path += `/${segment(name, String(value))}`;
  }
  const url = new URL(base);
  url.pathname = base.pathname.replace(/\/+$/, '') + path;
  url.search = '';
  url.hash = '';
  return url;
}

/** The most of an error answer's body kept (and read): enough for the gateway's own messages. */
const BODY_LIMIT = 1024;

/**
 * The first {@link BODY_LIMIT} bytes of `body` as text, and whether there was more. Reads a chunk past the limit
 * at most, then cancels the rest, so a proxy answering with megabytes costs nothing.
 */
async function bodyHead(body: ReadableStream<Uint8Array> | null): Promise<{ text: string; cut: boolean }> {
  if (body === null) return { text: '', cut: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body that breaks off (or times out) still tells what it said so far.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks, Math.min(size, BODY_LIMIT));
  // `stream: true` leaves out a character cut in half at the limit rather than ending on a replacement character.
  return { text: new TextDecoder().decode(bytes, { stream: size > BODY_LIMIT }), cut: size > BODY_LIMIT };
}

/** Sends one request to the gateway; throws a PushgatewayError naming the URL when it does not succeed. */
async function send(url: URL, method: string, timeout: number, headers: Record<string, string>, body?: string | Buffer): Promise<void> {
  let response: Response;
  try {
    // Redirects are not followed: the body and the headers (credentials) would go to a place the caller did
    // not name, and a gateway never redirects a push; a redirect means the URL is wrong, which the error says.
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(timeout), redirect: 'manual' };
    if (body !== undefined) init.body = body;
    response = await fetch(url, init);
  } catch (error) {
    const cause = error as Error & { cause?: { message?: string; code?: string } };
    const reason =
      cause.name === 'TimeoutError'
        ? `no answer within ${timeout} ms`
        : (cause.cause?.message ?? cause.cause?.code ?? cause.message ?? String(error));
    throw new PushgatewayError(
      `prom-http: cannot reach the Pushgateway at ${url.href} (${method}): ${reason}`,
      url.href,
      undefined,
      undefined,
      {
        cause: error,
      },
    );
  }
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
  const redirect = location === null ? '' : ` to ${location} (redirects are not followed: use the URL it points to)`;
  const head = await bodyHead(response.body);
  const text = head.text.trim();
  throw new PushgatewayError(
    `prom-http: the Pushgateway at ${url.href} answered ${method} with ${response.status} ${response.statusText}${redirect}${text ? `: ${text}` : ''}${head.cut ? ' [cut at 1 KB]' : ''}`,
    url.href,
    response.status,
    text,
  );
}

/**
 * Pushes the metrics of `registry` to the Pushgateway at `url` (its base, e.g. `http://127.0.0.1:9091`), into
 * the group of `job` and `groupings`, for batch jobs that end before Prometheus could scrape them.
 *
 * The body is the Prometheus text format; it is the protobuf format when a histogram of the registry keeps native
 * buckets: a Pushgateway of 1.5.0 or later keeps them, an older one keeps their classic buckets.
 *
 * Grouping values (and the job) that a URL path cannot carry as they are (`/`, `.`, `..`, the empty string, any
 * character outside `A-Z a-z 0-9 - . _ ~`) are sent base64url-encoded (`name@base64/...`), as the Pushgateway
 * documents, so they never change the group.
 *
 * Rejects with a TypeError naming a bad option, and with a {@link PushgatewayError} when the gateway cannot be
 * reached (the message names the URL) or answers an error status (the message holds the status and the first
 * 1 KB of its body; the rest is not read). A redirect is not followed: it rejects with its 3xx status and the
 * `Location` it pointed to, as the body and headers must not go anywhere but the URL given.
 */
export async function pushToGateway(url: string, options: PushToGatewayOptions): Promise<void> {
  const target = groupUrl('pushToGateway', url, options, PUSH_OPTIONS);
  const { registry = resolveClient(undefined, undefined).register, method = 'PUT', timeout = DEFAULT_TIMEOUT, headers = {} } = options;
  if (typeof (registry as Partial<Registry> | null)?.getMetricsAsArray !== 'function')
    throw new TypeError('prom-http: pushToGateway option "registry" must be a Registry of prom-client or @prometheus-io/client');
  if (method !== 'PUT' && method !== 'POST')
    throw new TypeError(`prom-http: pushToGateway option "method" must be "PUT" or "POST", got ${method}`);
  // Native buckets travel in the protobuf format only (a Pushgateway before 1.5.0 keeps the classic buckets of it).
  const native = (registry as unknown as Registry).getMetricsAsArray().some((metric) => hasNativeSeries(metric));
  const { contentType, body } = await renderExposition(registry, native ? { accept: PROTOBUF_CONTENT_TYPE } : {});
  await send(target, method, timeout, { ...headers, 'content-type': contentType }, body);
}

/**
 * Deletes the group of `job` and `groupings` (all its metrics) from the Pushgateway at `url`. Resolves once
 * the gateway has accepted the delete (202): it applies it a moment later.
 *
 * Rejects with a TypeError naming a bad option, and with a {@link PushgatewayError} when the gateway cannot be
 * reached or answers an error status, a redirect included (not followed), as {@link pushToGateway} does.
 */
export async function deleteFromGateway(url: string, options: DeleteFromGatewayOptions): Promise<void> {
  const target = groupUrl('deleteFromGateway', url, options, DELETE_OPTIONS);
  const { timeout = DEFAULT_TIMEOUT, headers = {} } = options;
  await send(target, 'DELETE', timeout, headers);
}
