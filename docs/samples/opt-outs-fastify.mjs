import Fastify from 'fastify';
import fastifyMetrics from '@prom-http/fastify';
import { done, get, hasNoSample, scrape } from './lib/check.mjs';

const app = Fastify();
await app.register(fastifyMetrics);
const handler = async () => 'ok';

app.get('/ping', { config: { metrics: { doNotTrack: true } } }, handler); // no default metrics; custom ones still run
app.get('/internal', { config: { metrics: { excludeAll: true } } }, handler); // no metric at all

await app.listen({ port: 3001 });
const [{ url }] = await listening();
await get(`${url}/ping`);
await get(`${url}/internal`);
hasNoSample(await scrape(`${url}/metrics`), 'http_request_total');
done();
