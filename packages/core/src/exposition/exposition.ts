import { gzip as gzipCallback } from 'node:zlib';
import type { Registry } from 'prom-client';
import { hasNativeSeries } from '../native/series.js';
import type { Exposition, GenerateOptions, RegistryLike } from '../types.js';
import { encodeFamily, PROTOBUF_CONTENT_TYPE, ProtoWriter } from './protobuf.js';
import { ByteWriter, type FamilyData, type FastFamily, kFastRender, registryDefaultLabels, renderFamily } from './text-format.js';

/** zlib's gzip as a promise (not util.promisify: importing node:util in ESM loads all of its lazy parts). */
function gzip(body: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gzipCallback(body, (error, zipped) => (error === null ? resolve(zipped) : reject(error)));
  });
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** The quality (`q`) of one media range's parameters: 1 when absent, 0 when not a number from 0 to 1. */
function quality(params: readonly string[]): number {
  for (let i = 1; i < params.length; i++) {
    const param = (params[i] as string).trim();
    if (param.length > 2 && (param[0] === 'q' || param[0] === 'Q') && param[1] === '=') {
      const q = Number(param.slice(2));
      return q >= 0 && q <= 1 ? q : 0;
    }
  }
  return 1;
}

/**
 * True when the scrape's `Accept` header (a media-range list, RFC 9110 section 12.5.1) prefers OpenMetrics.
 *
 * The rule: OpenMetrics only when `application/openmetrics-text` is named (any case) with a quality above 0,
 * and text/plain is not preferred to it. The quality of each type is that of the most specific range matching
 * it (`text/plain` before `text/*` before the full wildcard), the highest when a type is named twice; a type no range
 * matches has quality 0. Wildcards alone (the full wildcard, `application/*`) never select OpenMetrics: the classic
 * text format stays the answer to a client that did not ask for OpenMetrics by name. On a tie OpenMetrics wins:
 * a client that names it is one that reads it (Prometheus sends it first, at q=1).
 */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined || accept === '') return false;
  let openMetrics = -1;
  // Quality of text/plain and the specificity of the range that gave it: 3 exact, 2 text/*, 1 the full wildcard.
  let text = 0;
  let textSpecificity = 0;
  for (const range of accept.split(',')) {
    const params = range.split(';');
    const type = (params[0] as string).trim().toLowerCase();
    if (type === 'application/openmetrics-text') {
      openMetrics = Math.max(openMetrics, quality(params));
      continue;
    }
    const specificity = type === 'text/plain' ? 3 : type === 'text/*' ? 2 : type === '*/*' ? 1 : 0;
    if (specificity === 0 || specificity < textSpecificity) continue;
    const q = quality(params);
    text = specificity > textSpecificity ? q : Math.max(text, q);
    textSpecificity = specificity;
  }
  return openMetrics > 0 && openMetrics >= text;
}

/**
 * True when `accept` asks for the delimited protobuf exposition (`application/vnd.google.protobuf` with
 * `proto=io.prometheus.client.MetricFamily` and `encoding=delimited`) at a quality above 0 and no lower than
 * that of any text format it also accepts (wildcards included). Prometheus sends it first when it scrapes native
 * histograms (2.x `--enable-feature=native-histograms`, 3.x `scrape_protocols` starting with `PrometheusProto`).
 */
export function wantsProtobuf(accept: string | undefined): boolean {
  if (accept === undefined || accept === '') return false;
  let protobuf = 0;
  let other = 0;
  for (const range of accept.split(',')) {
    const params = range.split(';');
    const type = (params[0] as string).trim().toLowerCase();
    if (type === 'application/vnd.google.protobuf') {
      if (isDelimitedMetricFamily(params)) protobuf = Math.max(protobuf, quality(params));
    } else if (TEXT_RANGES.has(type)) {
      other = Math.max(other, quality(params));
    }
  }
  return protobuf > 0 && protobuf >= other;
}

/** The ranges that a text format (0.0.4 or OpenMetrics) answers. */
const TEXT_RANGES = new Set(['text/plain', 'text/*', 'application/openmetrics-text', 'application/*', '*/*']);

function isDelimitedMetricFamily(params: readonly string[]): boolean {
  let proto = false;
  let delimited = false;
  for (let i = 1; i < params.length; i++) {
    const [name, value] = (params[i] as string).split('=').map((part) => part.trim().toLowerCase());
    if (name === 'proto') proto = value === 'io.prometheus.client.metricfamily';
    else if (name === 'encoding') delimited = value === 'delimited';
  }
  return proto && delimited;
}

interface RegistryMetric {
  name: string;
  type?: string;
  get(): Promise<FamilyData> | FamilyData;
  getForPromString?(): Promise<FamilyData> | FamilyData;
  [kFastRender]?: true;
}

/** An exposition as the renderer made it: bytes from the fast path, or a string. */
export interface RenderedExposition {
  contentType: string;
  body: string | Buffer;
}

/** How families are joined into an exposition in each format. */
interface Framing {
  contentType: string;
  /** Between two families. */
  separator: Buffer;
  /** After the last one. */
  end: string;
}
const TEXT_FRAMING: Framing = { contentType: PROMETHEUS_CONTENT_TYPE, separator: Buffer.from('\n\n'), end: '\n' };
const OPENMETRICS_FRAMING: Framing = { contentType: OPENMETRICS_CONTENT_TYPE, separator: Buffer.from('\n'), end: '\n# EOF\n' };

/**
 * Renders the families of `registries` (in order; a name seen twice is rendered once) as the Prometheus text
 * format, or as OpenMetrics when `accept` asks for it, into bytes. Byte-identical to prom-client's
 * `registry.metrics()`: our own families write themselves directly; any other metric is read through its
 * `get()` (all of them at once, as prom-client does) and formatted as prom-client formats it.
 */
export async function renderExposition(
  registries: RegistryLike | readonly RegistryLike[],
  { accept, names }: GenerateOptions = {},
): Promise<RenderedExposition> {
  const protobuf = wantsProtobuf(accept);
  const openMetrics = !protobuf && wantsOpenMetrics(accept);
  const wanted = names && names.length > 0 ? new Set(names) : null;
  const parts: Array<{ metric: RegistryMetric; fast: boolean; defaultLabels: Record<string, string | number> | null }> = [];
  const seen = new Set<string>();
  for (const registry of (Array.isArray(registries) ? registries : [registries]) as Registry[]) {
    const defaultLabels = registryDefaultLabels(registry);
    for (const metric of registry.getMetricsAsArray() as unknown as RegistryMetric[]) {
      if (seen.has(metric.name) || (wanted !== null && !wanted.has(metric.name))) continue;
      seen.add(metric.name);
      parts.push({ metric, fast: metric[kFastRender] === true && defaultLabels === null, defaultLabels });
    }
  }
  if (protobuf) {
    // Our duration histograms write themselves (a get() would make an object per bucket of every series).
    const encodes = parts.map(({ metric, fast }) => fast && typeof (metric as Partial<ProtobufFamily>).encodeTo === 'function');
    const data = await Promise.all(parts.map(({ metric }, i) => (encodes[i] ? null : collect(metric))));
    const w = new ProtoWriter();
    parts.forEach(({ metric, defaultLabels }, i) => {
      if (encodes[i]) (metric as unknown as ProtobufFamily).encodeTo(w);
      else encodeFamily(w, data[i] as FamilyData, defaultLabels, hasNativeSeries(metric) ? metric : null);
    });
    return { contentType: PROTOBUF_CONTENT_TYPE, body: w.result() };
  }
  const data = await Promise.all(parts.map(({ metric, fast }) => (fast ? null : collect(metric))));
  const f = openMetrics ? OPENMETRICS_FRAMING : TEXT_FRAMING;
  const w = new ByteWriter();
  parts.forEach(({ metric, fast, defaultLabels }, i) => {
    if (i > 0) w.bytes(f.separator);
    if (fast) (metric as unknown as FastFamily).renderTo(w, openMetrics);
    else w.str(renderFamily(data[i] as FamilyData, defaultLabels, openMetrics));
  });
  w.str(f.end);
  return { contentType: f.contentType, body: w.result() };
}

/** A family of ours that writes its own protobuf exposition. */
interface ProtobufFamily {
  encodeTo(w: ProtoWriter): void;
}

/** The data of a metric prom-client renders; rejects naming the metric when its collection throws or rejects. */
async function collect(metric: RegistryMetric): Promise<FamilyData> {
  try {
    return await (typeof metric.getForPromString === 'function' ? metric.getForPromString() : metric.get());
  } catch (error) {
    throw new Error(`metric "${metric.name}" could not be collected: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** Like {@link renderExposition}, with the body as a string. Rejects when a metric cannot be collected. */
export async function generateMetrics(
  registries: RegistryLike | readonly RegistryLike[],
  options: GenerateOptions = {},
): Promise<Exposition> {
  return asExposition(await renderExposition(registries, options));
}

/** A rendered exposition with its body as a string. */
export function asExposition({ contentType, body }: RenderedExposition): Exposition {
  return { contentType, body: typeof body === 'string' ? body : body.toString('utf8') };
}

/** What a scrape asked for, as every adapter and the standalone server can read it. */
export interface ScrapeRequest {
  method: string | undefined;
  /** The request URL with its query string (only `name[]` is read from it). */
  url: string | undefined;
  accept: string | undefined;
  acceptEncoding: string | undefined;
}

/** The answer to a scrape, for the adapter to send. */
export interface ScrapeResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** `name[]=a&name[]=b` (also `name=a`) from the query string. */
export function requestedNames(url: string | undefined): string[] | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const params = new URLSearchParams(url.slice(q + 1));
  const names = [...params.getAll('name[]'), ...params.getAll('name')];
  return names.length > 0 ? names : undefined;
}

function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  for (const part of acceptEncoding.split(',')) {
    const [coding, ...params] = part.trim().split(';');
    if (coding?.trim().toLowerCase() !== 'gzip') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** Answers a scrape: 405 for methods other than GET and HEAD, else the exposition, gzipped when accepted. */
export async function answerScrape(
  request: ScrapeRequest,
  render: (options: GenerateOptions) => Promise<RenderedExposition>,
): Promise<ScrapeResponse> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'Method Not Allowed\n' };
  }
  const { contentType, body } = await render({ accept: request.accept, names: requestedNames(request.url) });
  const headers: Record<string, string> = { 'content-type': contentType, vary: 'Accept, Accept-Encoding' };
  if (acceptsGzip(request.acceptEncoding)) {
    headers['content-encoding'] = 'gzip';
    return { status: 200, headers, body: await gzip(body) };
  }
  return { status: 200, headers, body };
}

/** The answer when `authorize` refuses a scrape. */
export const UNAUTHORIZED: ScrapeResponse = Object.freeze({
  status: 401,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: 'Unauthorized\n',
});
