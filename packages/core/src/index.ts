/**
 * The public API of `@prom-http/core`: what an app imports to aggregate a `node:cluster` app's metrics, to push
 * a batch job's metrics and to count the exceptions a layer above the adapters catches (NestJS's exception
 * filters), and the option and result types the adapters' documentation names. Everything
 * here follows semver; the adapters' engine lives in `@prom-http/core/internal`, which does not.
 */
export { setupClusterPrimary } from './cluster/primary.js';
export { DEFAULT_BUCKETS } from './options.js';
export { deleteFromGateway, PushgatewayError, pushToGateway } from './pushgateway.js';
export { recordException } from './request/report-exception.js';
export type * from './types.js';
export { VERSION } from './version.js';
