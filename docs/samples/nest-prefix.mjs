// docs/nestjs.md: the NestJS app of nest-express.mjs with a global prefix and URI versioning, and what the route
// label then holds.
import { Logger } from '@nestjs/common';
import { done, get, hasSample, scrape } from './lib/check.mjs';
import { runTypeScript, started } from './lib/typescript.mjs';

Logger.overrideLogger(false);
await runTypeScript(import.meta.url, 'main.ts');
const [{ url }] = await started();
await get(`${url}/api/v1/users/7`);
await get(`${url}/api/v1/nothing/here`);
await get(`${url}/elsewhere`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'http_request_total{method="GET",path="/api/v1/users/:id",status="200"}', 1);
hasSample(text, 'http_request_total{method="GET",path="/api/*path",status="404"}', 1);
hasSample(text, 'http_request_total{method="GET",path="<unmatched>",status="404"}', 1);
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
