// docs/nestjs.md: a NestJS app on Express, file by file as the page shows it (TypeScript with decorators, in the
// block comments below), then requests to it and checks of what its /metrics shows.
import { Logger } from '@nestjs/common';
import { done, get, hasNoSample, hasSample, scrape } from './lib/check.mjs';
import { runTypeScript, started } from './lib/typescript.mjs';

Logger.overrideLogger(false); // Nest logs the 500 below with its stack: not an error of the sample
await runTypeScript(import.meta.url, 'main.ts');
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
  app.use(metrics()); // before Nest's routes: records every request, serves GET /metrics
  app.useGlobalFilters(new MetricsExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
  await app.listen(3000);
}
bootstrap();
*/
