// A NestJS app on either platform, written without decorator syntax: Nest's decorators are plain functions,
// called here as TypeScript would call them, so that the test needs no decorator transform.
import { Catch, Controller, Get, Module, NotFoundException, Param, RequestMethod, UseGuards, VersioningType } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { recordException } from '@prom-http/core';
import { metrics } from '@prom-http/express';
import fastifyMetrics from '@prom-http/fastify';

/** What the docs give users to copy: every exception Nest catches is counted, then answered as Nest answers it. */
export class MetricsExceptionFilter extends BaseExceptionFilter {
  catch(exception, host) {
    recordException(host.switchToHttp().getResponse(), exception);
    super.catch(exception, host);
  }
}
Catch()(MetricsExceptionFilter);

/** A guard whose backend is down: it throws before any interceptor runs. */
class FailingGuard {
  canActivate() {
    throw new Error('auth backend down');
  }
}

function decorate(target, method, ...decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  for (const d of decorators) d(target.prototype, method, descriptor);
}

/** The controller `users`, made anew for each app (Nest keeps its metadata on the class). */
function usersController(version) {
  class UsersController {
    findOne(id) {
      return { id };
    }
    crash() {
      throw new Error('database down');
    }
    missing(id) {
      throw new NotFoundException(`no order ${id}`);
    }
    guarded() {
      return { ok: true };
    }
  }
  Controller(version === undefined ? 'users' : { path: 'users', version })(UsersController);
  decorate(UsersController, 'findOne', Get(':id'));
  Param('id')(UsersController.prototype, 'findOne', 0);
  decorate(UsersController, 'crash', Get(':id/crash'));
  decorate(UsersController, 'missing', Get(':id/orders/:orderId'));
  Param('orderId')(UsersController.prototype, 'missing', 0);
  decorate(UsersController, 'guarded', Get(':id/guarded'), UseGuards(new FailingGuard()));
  return UsersController;
}

/**
 * Starts a Nest app on `platform` ('express' or 'fastify') with prom-http on `registry`, listening on a free port.
 * `filter`: the exception filter above as a global filter; `globalPrefix`, `uriVersion`: Nest's path settings;
 * `configure(instance, consumer)`: custom metrics on the prom-http instance, and Nest middleware through `consumer`
 * (Express only: Nest's middleware gets Node's own request and response on Fastify).
 *
 * @param {'express' | 'fastify'} platform
 * @param {{ registry: import('prom-client').Registry, filter?: boolean, globalPrefix?: string, uriVersion?: string,
 *   configure?: (instance: any, consumer?: import('@nestjs/common').MiddlewareConsumer) => void }} options
 */
export async function startApp(platform, { registry, filter = true, globalPrefix, uriVersion, configure }) {
  const options = { registry, collectDefaultMetrics: false };
  const m = platform === 'express' ? metrics(options) : undefined;
  const controller = usersController(uriVersion);
  class AppModule {
    configure(consumer) {
      if (m !== undefined) configure?.(m, consumer);
    }
  }
  Module({ controllers: [controller] })(AppModule);

  const app = await NestFactory.create(AppModule, ...(platform === 'fastify' ? [new FastifyAdapter()] : []), { logger: false });
  if (platform === 'express') app.use(m);
  else {
    await app.register(fastifyMetrics, options);
    configure?.(app.getHttpAdapter().getInstance().metrics);
  }
  if (globalPrefix !== undefined) app.setGlobalPrefix(globalPrefix);
  if (uriVersion !== undefined) app.enableVersioning({ type: VersioningType.URI });
  if (filter) app.useGlobalFilters(new MetricsExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

export { RequestMethod };
