// Decorator-style custom metrics, with prometheus_flask_exporter's own collection example, in Express and
// Fastify side by side: GET /collection/10002/item/76 on either app gives
//   cnt_collection{collection="10002",status="200"} 1
//   node examples/custom-metrics/server.mjs      (EXPRESS_PORT=3000, FASTIFY_PORT=3001)

import { metrics } from '@prom-http/express';
import fastifyMetrics from '@prom-http/fastify';
import express from 'express';
import Fastify from 'fastify';
import { Registry } from 'prom-client';

const host = process.env.HOST ?? '0.0.0.0';

// Express, on its own registry so the two apps' metrics stay apart in this one process.
const app = express();
const m = metrics({ registry: new Registry() });
app.use(m);
m.info('app_info', 'Application information', { version: '1.0.0' });
const byCollection = m.counter('cnt_collection', 'Number of invocations per collection', {
  labels: { collection: (req) => req.params.collection_id, status: (_req, res) => res.statusCode },
});
const itemLatency = m.histogram('item_seconds', 'Time to fetch an item', { buckets: [0.01, 0.05, 0.1, 0.5] });
const busy = m.gauge('items_in_flight', 'Item fetches in flight');
const byStatus = m.counter('responses_by_status', 'Responses by status', { labels: { status: (_req, res) => res.statusCode } });
m.registerDefault(byStatus);
app.get(
  '/collection/:collection_id/item/:item_id',
  byCollection(
    itemLatency(
      busy((req, res) => {
        res.json({ collection: req.params.collection_id, item: req.params.item_id });
      }),
    ),
  ),
);
app.get('/ping', m.doNotTrack(), (_req, res) => res.send('pong'));

// Fastify, the same metrics on the other registry.
const fastify = Fastify();
await fastify.register(fastifyMetrics, { registry: new Registry(), collectDefaultMetrics: false });
const fByCollection = fastify.metrics.counter('cnt_collection', 'Number of invocations per collection', {
  labels: { collection: (request) => request.params.collection_id, status: (_request, reply) => reply.statusCode },
});
fastify.get(
  '/collection/:collection_id/item/:item_id',
  fByCollection(async (request) => ({ collection: request.params.collection_id, item: request.params.item_id })),
);
fastify.get('/ping', { config: { metrics: { doNotTrack: true } } }, async () => 'pong');

const server = app.listen(Number(process.env.EXPRESS_PORT ?? 3000), host, async () => {
  const address = await fastify.listen({ port: Number(process.env.FASTIFY_PORT ?? 3001), host });
  console.log(`express on http://${host}:${server.address().port}/metrics, fastify on ${address}/metrics`);
});
// Fastify answers with `connection: close` while closing; Express's server is told to (see express-basic).
const stop = () => {
  server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
  fastify.close().then(() => server.close(() => process.exit(0)));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
