// docs/nestjs.md: the NestJS app of nest-express.mjs with a global prefix and URI versioning, and what the route
// label then holds.
import { Logger } from '@nestjs/common';
import { done, get, hasSample, scrape } from './lib/check.mjs';
import { runTypeScript, started } from './lib/typescript.mjs';

Logger.overrideLogger(false);
await runTypeScript(import.meta.url, 'main.ts', ['nest-express.mjs']);
const [{ url }] = await started();
await get(`${url}/api/v1/users/7`);
await get(`${url}/api/v1/nothing/here`);
await get(`${url}/elsewhere`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'http_request_total{method="GET",path="/api/v1/users/:id",status="200"}', 1);
hasSample(text, 'http_request_total{method="GET",path="/api/*path",status="404"}', 1);
hasSample(text, 'http_request_total{method="GET",path="<unmatched>",status="404"}', 1);
done();

/* main.ts
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { VersioningType } from '@nestjs/common';
import { metrics } from '@prom-http/express';
import { AppModule } from './app.module.js';
import { MetricsExceptionFilter } from './metrics-exception.filter.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  app.use(metrics()); // not under the prefix: GET /metrics
  app.setGlobalPrefix('api');
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' }); // path="/api/v1/users/:id"
  app.useGlobalFilters(new MetricsExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
  await app.listen(3000);
}
bootstrap();
*/
