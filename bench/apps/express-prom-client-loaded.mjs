// Reference row: express-floor with prom-client loaded but no default metrics: with express-prom-client, it
// tells the cost of having prom-client in the process from that of its default (process) metrics.
import 'prom-client';
import { listenExpressFloor } from '../lib/floor-express.mjs';

listenExpressFloor();
