import type { RouteReader } from '../engine.js';
import { labelString } from '../label-values.js';
import type { ResolvedOptions } from '../options.js';

/**
 * How the default metrics' route and status label values are made from the options, once at creation: the
 * request path then calls one function per label, with no option read per request.
 */
/** The route label of a request, as `groupBy`, `unmatchedLabel` and `normalizePath` make it. */
export function routeLabelOf<Req, Res>(o: ResolvedOptions<Req, Res>, routes: RouteReader<Req, Res>): (req: Req, res: Res) => string {
  const { groupBy, unmatchedLabel: unmatched, normalizePath } = o;
  let label: (req: Req, res: Res) => string;
  if (groupBy === 'path') {
    label = function pathLabel(req, res) {
      return routes.template(req, res) ?? unmatched;
    };
  } else if (groupBy === 'endpoint') {
    label = function endpointLabel(req, res) {
      return routes.endpoint(req, res) ?? unmatched;
    };
  } else if (groupBy === 'url') {
    label = function urlLabel(req, res) {
      return labelString(routes.url(req, res));
    };
  } else {
    label = function customLabel(req) {
      return labelString(groupBy(req));
    };
  }
  if (normalizePath === null) return label;
  const base = label;
  return function normalizedLabel(req, res) {
    let value = base(req, res);
    if (value === unmatched) return value;
    for (const [pattern, replacement] of normalizePath) value = value.replace(pattern, replacement);
    return labelString(value);
  };
}

const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx', '6xx', '7xx', '8xx', '9xx'];

/** The status label's value when `statusFormat` or `labelNames` make it something else than the code; else null. */
export function statusLabelOf<Req, Res>(o: ResolvedOptions<Req, Res>): ((status: number, req: Req, res: Res) => number | string) | null {
  const format = o.statusFormat;
  if (o.statusLabelName === null) {
    return function noStatus() {
      return 0;
    };
  }
  if (format === 'code') return null;
  if (format === 'class') {
    return function statusClass(status) {
      return STATUS_CLASSES[Math.floor(status / 100)] ?? String(status);
    };
  }
  return function formattedStatus(status, req, res) {
    const value = format(status, req, res);
    return typeof value === 'number' ? value : labelString(value);
  };
}
