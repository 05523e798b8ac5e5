// Reference row: fastify-floor plus prom-client's default (process) metrics, which prom-http turns on by
// default: what having them in the process costs before any request is recorded.
import promClient from 'prom-client';
import { listenFastifyFloor } from '../lib/floor-fastify.mjs';

promClient.collectDefaultMetrics();
await listenFastifyFloor();
