// docs/nestjs.md: a custom metric in the NestJS app of nest-express.mjs, recorded for every request.
import { Logger } from '@nestjs/common';
import { done, get, hasSample, scrape } from './lib/check.mjs';
import { runTypeScript, started } from './lib/typescript.mjs';

Logger.overrideLogger(false);
await runTypeScript(import.meta.url, 'main.ts', ['nest-express.mjs']);
const [{ url }] = await started();
await get(`${url}/users/7`, { 'x-tenant': 'acme' });
await get(`${url}/users/crash`, { 'x-tenant': 'acme' });
await get(`${url}/users/8`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'tenant_requests_total{tenant="acme"}', 2);
hasSample(text, 'tenant_requests_total{tenant="none"}', 1);
done();

/* main.ts
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { metrics } from '@prom-http/express';
import { AppModule } from './app.module.js';
import { MetricsExceptionFilter } from './metrics-exception.filter.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  const m = metrics();
  app.use(m);
  // Every request the default metrics record, counted by the tenant its X-Tenant header names.
  m.registerDefault(
    m.counter('tenant_requests_total', 'Requests by tenant', {
      labels: { tenant: (req) => req.get('x-tenant') ?? 'none' },
    }),
  );
  app.useGlobalFilters(new MetricsExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
  await app.listen(3000);
}
bootstrap();
*/
