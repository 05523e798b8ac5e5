// Reference row: fastify-floor plus only what prom-client's `nodejs_gc_duration_seconds` installs, a
// PerformanceObserver on `gc` entries: one of the two default metrics that work while no scrape runs.
import { PerformanceObserver } from 'node:perf_hooks';
import { listenFastifyFloor } from '../lib/floor-fastify.mjs';

let collections = 0;
new PerformanceObserver((list) => {
  collections += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });
globalThis.gcCollections = () => collections;
await listenFastifyFloor();
