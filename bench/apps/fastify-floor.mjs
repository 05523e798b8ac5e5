// Reference row: the least prom-http's Fastify design can cost, with no metrics library at all: one empty
// onRequest hook and one subscriber counting finished responses (lib/floor-fastify.mjs); nothing recorded.
import { listenFastifyFloor } from '../lib/floor-fastify.mjs';

await listenFastifyFloor();
