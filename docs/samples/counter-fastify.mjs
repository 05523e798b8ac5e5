import Fastify from 'fastify';
import fastifyMetrics from '@prom-http/fastify';
import { done, get, hasSample, scrape } from './lib/check.mjs';

const app = Fastify();
await app.register(fastifyMetrics);

const byCollection = app.metrics.counter('cnt_collection', 'Number of invocations per collection', {
  labels: { collection: (req) => req.params.collection_id, status: (req, reply) => reply.statusCode },
});
app.get(
  '/collection/:collection_id/item/:item_id',
  byCollection(async () => ({})),
);

await app.listen({ port: 3001 });
const [{ url }] = await listening();
await get(`${url}/collection/10002/item/76`);
hasSample(await scrape(`${url}/metrics`), 'cnt_collection{collection="10002",status="200"}', 1);
done();
