import { done, get, hasSample, scrape } from './lib/check.mjs';

import Fastify from 'fastify';
import fastifyMetrics from '@prom-http/fastify'; // or: import { fastifyMetrics } from '@prom-http/fastify'

const app = Fastify();
await app.register(fastifyMetrics, { groupBy: 'path' });
app.get('/items/:id', async (req) => ({ id: req.params.id })); // recorded as path="/items/:id"
await app.listen({ port: 3000 });

const [{ url }] = await listening();
await get(`${url}/items/1`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'http_request_total{method="GET",path="/items/:id",status="200"}', 1);
done();
