// Reference row: the least any library can do to record GET /users/:id's duration histogram by route on Express
// (lib/minimal-express.mjs), with prom-client's default metrics on as prom-http's defaults have them: what
// prom-http's design costs Express with nothing else.
import promClient from 'prom-client';
import { listenExpressMinimal } from '../lib/minimal-express.mjs';

promClient.collectDefaultMetrics();
listenExpressMinimal();
