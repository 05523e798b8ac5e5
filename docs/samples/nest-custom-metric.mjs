// docs/nestjs.md: a custom metric in the NestJS app of nest-express.mjs, recorded for every request.
import { Logger } from '@nestjs/common';
import { done, get, hasSample, scrape } from './lib/check.mjs';
import { runTypeScript, started } from './lib/typescript.mjs';

Logger.overrideLogger(false);
await runTypeScript(import.meta.url, 'main.ts');
const [{ url }] = await started();
await get(`${url}/users/7`, { 'x-tenant': 'acme' });
await get(`${url}/users/crash`, { 'x-tenant': 'acme' });
await get(`${url}/users/8`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'tenant_requests_total{tenant="acme"}', 2);
hasSample(text, 'tenant_requests_total{tenant="none"}', 1);
done();

/* users.controller.ts
import { Controller, Get, NotFoundException, Param } from '@nestjs/common';

@Controller('users')
export class UsersController {
  @Get(':id') // recorded as path="/users/:id"
  findOne(@Param('id') id: string) {
    if (id === '0') throw new NotFoundException(); // a 404: the client's fault, not an exception
    if (id === 'crash') throw new Error('database down'); // a 500, counted as an exception
    return { id };
  }

  @Get(':id/orders/:orderId') // recorded as path="/users/:id/orders/:orderId"
  order(@Param('orderId') orderId: string) {
    return { orderId };
  }
}
*/

/* app.module.ts
import { Module } from '@nestjs/common';
import { UsersController } from './users.controller.js';

@Module({ controllers: [UsersController] })
export class AppModule {}
*/

/* metrics-exception.filter.ts
import { type ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { recordException } from '@prom-http/core';

// Nest answers what a controller, guard, pipe or interceptor throws itself, so Express and Fastify never see it:
// count it in http_request_exceptions_total (an HttpException with a 4xx status is not one), then answer as Nest does.
@Catch()
export class MetricsExceptionFilter extends BaseExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost) {
    recordException(host.switchToHttp().getResponse(), exception);
    super.catch(exception, host);
  }
}
*/

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
