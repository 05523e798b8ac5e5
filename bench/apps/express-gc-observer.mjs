// Reference row: express-floor plus only what prom-client's `nodejs_gc_duration_seconds` installs, a
// PerformanceObserver on `gc` entries: one of the two default metrics that work while no scrape runs.
import { PerformanceObserver } from 'node:perf_hooks';
import { listenExpressFloor } from '../lib/floor-express.mjs';

// Like prom-client's, the callback reads the entries of each collection (Node keeps an observing observer alive).
new PerformanceObserver(function onCollections(list) {
  list.getEntries();
}).observe({ entryTypes: ['gc'] });
listenExpressFloor();
