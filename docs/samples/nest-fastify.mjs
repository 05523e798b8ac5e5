// docs/nestjs.md: the NestJS app of nest-express.mjs on Fastify, file by file as the page shows it (TypeScript with
// decorators, in the block comments below), then requests to it and checks of what its /metrics shows.
import { Logger } from '@nestjs/common';
import { done, get, hasNoSample, hasSample, scrape } from './lib/check.mjs';
import { runTypeScript, started } from './lib/typescript.mjs';

Logger.overrideLogger(false); // Nest logs the 500 below with its stack: not an error of the sample
await runTypeScript(import.meta.url, 'main.ts', ['nest-express.mjs']);
const [{ url }] = await started();
await get(`${url}/users/7`);
await get(`${url}/users/0`);
await get(`${url}/users/crash`);
await get(`${url}/users/7/orders/1`);
await get(`${url}/no/such/page`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'http_request_total{method="GET",path="/users/:id",status="200"}', 1);
hasSample(text, 'http_request_total{method="GET",path="/users/:id",status="404"}', 1);
hasSample(text, 'http_request_total{method="GET",path="/users/:id",status="500"}', 1);
hasSample(text, 'http_request_total{method="GET",path="/users/:id/orders/:orderId",status="200"}', 1);
hasSample(text, 'http_request_total{method="GET",path="<unmatched>",status="404"}', 1);
hasSample(text, 'http_request_exceptions_total{method="GET",path="/users/:id",status="500"}', 1);
hasNoSample(text, 'http_request_exceptions_total{method="GET",path="/users/:id",status="404"}');
done();

/* main.ts
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyMetrics from '@prom-http/fastify';
import { AppModule } from './app.module.js';
import { MetricsExceptionFilter } from './metrics-exception.filter.js';

async function bootstrap() {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter());
  await app.register(fastifyMetrics); // records every request, serves GET /metrics
  app.useGlobalFilters(new MetricsExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
  await app.listen(3000);
}
bootstrap();
*/
