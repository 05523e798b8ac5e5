import Fastify from 'fastify';
import fastifyMetrics from '@prom-http/fastify';
import { done, get, hasSample, scrape } from './lib/check.mjs';

const app = Fastify();
await app.register(fastifyMetrics);

app.get(
  '/items/:id',
  app.metrics.histogram('item_seconds', 'Item latency')(async () => ({})),
);

await app.listen({ port: 3001 });
const [{ url }] = await listening();
await get(`${url}/items/1`);
hasSample(await scrape(`${url}/metrics`), 'item_seconds_count', 1);
done();
