// Reference row: fastify-floor with prom-client loaded but no default metrics: with fastify-prom-client, it
// tells the cost of having prom-client in the process from that of its default (process) metrics.
import 'prom-client';
import { listenFastifyFloor } from '../lib/floor-fastify.mjs';

await listenFastifyFloor();
