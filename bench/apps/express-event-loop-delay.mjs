// Reference row: express-floor plus only what prom-client's event-loop-lag metrics install, a
// monitorEventLoopDelay histogram at its 10 ms resolution: the other default metric that works while no scrape runs.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { listenExpressFloor } from '../lib/floor-express.mjs';

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
// Kept reachable, as prom-client keeps its histogram, so it is never collected while the app runs.
globalThis.eventLoopDelay = delay;
listenExpressFloor();
