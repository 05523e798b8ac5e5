export { DEFAULT_CLUSTER_TIMEOUT, setupClusterPrimary } from './cluster/primary.js';
export type { CustomKind, LabelErrorSink } from './custom-metrics.js';
export { CustomMetric } from './custom-metrics.js';
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
} from './exposition.js';
export { startHttpServer } from './metrics-server.js';
export { DEFAULT_BUCKETS } from './options.js';
export { deleteFromGateway, PushgatewayError, pushToGateway } from './pushgateway.js';
export { OVERFLOW, UNMATCHED } from './request-metrics.js';
export { isClientError, pathOf, RequestRecord } from './request-record.js';
export { failOpen, skipOpen } from './response-watch.js';
export type * from './types.js';
export { VERSION } from './version.js';
