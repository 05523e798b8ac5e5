// The metrics endpoint behind a bearer token: scrapes without it get 401 and no metrics.
//   METRICS_TOKEN=s3cret node examples/protected-endpoint/server.mjs
// Prometheus: `authorization: { type: Bearer, credentials: s3cret }` in the scrape config.

import fastifyMetrics from '@prom-http/fastify';
import Fastify from 'fastify';

const token = process.env.METRICS_TOKEN ?? 's3cret';
const app = Fastify();
await app.register(fastifyMetrics, {
  authorize: (request) => request.headers.authorization === `Bearer ${token}`,
});
app.get('/hello/:name', async (request) => ({ hello: request.params.name }));

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '0.0.0.0' });
console.log(`app on ${address}; metrics: curl -H 'Authorization: Bearer ${token}' ${address}/metrics`);
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
