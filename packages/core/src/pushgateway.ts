import promClient, { type Registry } from 'prom-client';
import { PROMETHEUS_CONTENT_TYPE, renderExposition } from './exposition.js';
import type { DeleteFromGatewayOptions, PushToGatewayOptions } from './types.js';

/** A push or delete that did not succeed: the gateway could not be reached, or answered with an error status. */
export class PushgatewayError extends Error {
  override readonly name = 'PushgatewayError';
  /** The URL of the request that failed. */
  readonly url: string;
  /** The gateway's status code; undefined when it could not be reached. */
  readonly status: number | undefined;
  /** The gateway's answer; undefined when it could not be reached. */
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

/**
 * One path segment pair of the grouping key. Values the path cannot carry as they are (a `/`, or the empty
 * string) go base64url-encoded, as the Pushgateway's API allows with the `@base64` suffix.
 */
function segment(name: string, value: string): string {
  if (value === '') return `${name}@base64/=`;
  if (value.includes('/')) return `${name}@base64/${Buffer.from(value, 'utf8').toString('base64url')}`;
  return `${name}/${encodeURIComponent(value)}`;
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

/** Sends one request to the gateway; throws a PushgatewayError naming the URL when it does not succeed. */
async function send(url: URL, method: string, timeout: number, headers: Record<string, string>, body?: string | Buffer): Promise<void> {
  let response: Response;
  try {
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(timeout) };
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
  const text = (await response.text().catch(() => '')).trim();
  throw new PushgatewayError(
    `prom-http: the Pushgateway at ${url.href} answered ${method} with ${response.status} ${response.statusText}${text ? `: ${text}` : ''}`,
    url.href,
    response.status,
    text,
  );
}

/**
 * Pushes the metrics of `registry` to the Pushgateway at `url` (its base, e.g. `http://127.0.0.1:9091`), into
 * the group of `job` and `groupings`, for batch jobs that end before Prometheus could scrape them.
 *
 * Rejects with a TypeError naming a bad option, and with a {@link PushgatewayError} when the gateway cannot be
 * reached (the message names the URL) or answers an error status (the message holds the status and its body).
 */
export async function pushToGateway(url: string, options: PushToGatewayOptions): Promise<void> {
  const target = groupUrl('pushToGateway', url, options, PUSH_OPTIONS);
  const { registry = promClient.register, method = 'PUT', timeout = DEFAULT_TIMEOUT, headers = {} } = options;
  if (typeof (registry as Partial<Registry> | null)?.getMetricsAsArray !== 'function')
    throw new TypeError('prom-http: pushToGateway option "registry" must be a prom-client Registry');
  if (method !== 'PUT' && method !== 'POST')
    throw new TypeError(`prom-http: pushToGateway option "method" must be "PUT" or "POST", got ${method}`);
  const { body } = await renderExposition(registry, {});
  await send(target, method, timeout, { ...headers, 'content-type': PROMETHEUS_CONTENT_TYPE }, body);
}

/**
 * Deletes the group of `job` and `groupings` (all its metrics) from the Pushgateway at `url`. Resolves once
 * the gateway has accepted the delete (202): it applies it a moment later.
 *
 * Rejects with a TypeError naming a bad option, and with a {@link PushgatewayError} when the gateway cannot be
 * reached or answers an error status.
 */
export async function deleteFromGateway(url: string, options: DeleteFromGatewayOptions): Promise<void> {
  const target = groupUrl('deleteFromGateway', url, options, DELETE_OPTIONS);
  const { timeout = DEFAULT_TIMEOUT, headers = {} } = options;
  await send(target, 'DELETE', timeout, headers);
}
