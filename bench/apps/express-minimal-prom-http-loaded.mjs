// Reference row: express-minimal with prom-http loaded and set up (its registry, request families and exposition)
// but not mounted: what having prom-http's code and objects in the process costs, with no work per request.
import { metrics } from '@prom-http/express';
import promClient from 'prom-client';
import { listenExpressMinimal } from '../lib/minimal-express.mjs';

promClient.collectDefaultMetrics();
// Its own registry, without a second set of default metrics (the app has them once).
globalThis.unmounted = metrics({ registry: new promClient.Registry(), collectDefaultMetrics: false });
listenExpressMinimal();
