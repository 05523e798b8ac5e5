import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

/**
 * The client the tests build their registries and metrics with: `PROMHTTP_TEST_CLIENT=@prometheus-io/client`
 * runs the suite against @prometheus-io/client, anything else (or nothing) against prom-client. The two have
 * the same API, so prom-client's types describe both.
 */
export const CLIENT_NAME = process.env.PROMHTTP_TEST_CLIENT === '@prometheus-io/client' ? '@prometheus-io/client' : 'prom-client';

/** Required rather than imported: both packages are CommonJS, and the name is chosen at run time. */
const client = createRequire(import.meta.url)(CLIENT_NAME) as typeof PromClient;

export default client;
export const { AggregatorRegistry, Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics, register } = client;
export type Registry = PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Client = typeof PromClient;

/** Both client packages, for the tests that compare with each in every run. */
export const BOTH_CLIENTS: ReadonlyArray<readonly [string, Client]> = [
  ['prom-client', createRequire(import.meta.url)('prom-client') as Client],
  ['@prometheus-io/client', createRequire(import.meta.url)('@prometheus-io/client') as Client],
];
