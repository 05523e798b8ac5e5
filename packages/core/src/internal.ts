/**
 * What `@prom-http/express` and `@prom-http/fastify` need from the core: the engine, one request's record,
 * the response watch and the scrape answer. Not a public API: no semver promise, any release may change or
 * remove these names. Apps import from `@prom-http/core` (or an adapter) instead.
 */
export { DEFAULT_CLUSTER_TIMEOUT } from './cluster/primary.js';
export type { CustomKind, LabelErrorSink } from './custom/custom-metric.js';
export { CustomMetric } from './custom/custom-metric.js';
export { resetWarnings, WARNING_TYPE, type WarningCode, warnOnce } from './diagnostics.js';
export { PromHttp, type RouteReader } from './engine.js';
export {
  answerScrape,
  generateMetrics,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  type ScrapeRequest,
  type ScrapeResponse,
  wantsOpenMetrics,
} from './exposition/exposition.js';
export { startHttpServer } from './exposition/metrics-server.js';
export { type InstanceApi, instanceApi, type OnEnter } from './instance-api.js';
export { routeLabelValue } from './label-values.js';
export { isClientError, pathOf, RequestRecord } from './request/record.js';
export { failOpen, skipOpen } from './request/response-watch.js';
export { OVERFLOW, UNMATCHED } from './request/series-store.js';
