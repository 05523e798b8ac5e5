'use strict';
/**
 * Fastify as a user writes it, with @prom-http/fastify from its tarball: counts, route templates with plugin
 * prefixes, exceptions (thrown, rejected, reply.send(err)), the 404 bucket, handler names for `groupBy: 'endpoint'`. `node fastify.cjs plain|otel|compress`:
 * alone, beside @fastify/otel (its plugin registered first, as its README says), or with @fastify/compress.
 */
const { checkDefaults, done, expectEqual, fail, scrape, send, value } = require('./check.cjs');

const variant = process.argv[2] ?? 'plain';
const tracing = variant === 'otel' ? require('./otel.cjs').startTracing('fastify') : undefined;

const Fastify = require('fastify');
const { fastifyMetrics } = require('@prom-http/fastify');
const { Registry } = require('prom-client');

console.log(`fastify ${require('fastify/package.json').version}, prom-client ${require('prom-client/package.json').version}, ${variant}`);

async function main() {
  const app = Fastify();
  if (tracing) await app.register(tracing.fastifyOtel.plugin());
  if (variant === 'compress') await app.register(require('@fastify/compress'), { threshold: 0 });
  await app.register(fastifyMetrics, { registry: new Registry(), collectDefaultMetrics: false });

  app.get('/users/:id', async function user(request) {
    return { id: request.params.id, padding: 'x'.repeat(2000) };
  });
  app.register(
    async function api(instance) {
      instance.get('/posts/:pid', async function post(request) {
        return `${request.params.uid}/${request.params.pid}`;
      });
    },
    { prefix: '/api/users/:uid' },
  );
  app.get('/throw', function throws() {
    throw new Error('thrown');
  });
  app.get('/reject', async function rejects() {
    throw new Error('rejected');
  });
  app.get('/reply-error', function sendsError(_request, reply) {
    reply.send(new Error('sent as the reply'));
  });
  app.get('/teapot', async function teapot() {
    throw Object.assign(new Error('an HTTP error'), { statusCode: 418 });
  });

  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const statuses = await send(base, [
      ['/users/1', 1],
      ['/users/2', 1],
      ['/api/users/7/posts/9', 3],
      ['/throw', 1],
      ['/reject', 1],
      ['/reply-error', 1],
      ['/teapot', 1],
      ['/nope', 2],
    ]);
    expectEqual('statuses', statuses, {
      '/users/1': 200,
      '/users/2': 200,
      '/api/users/7/posts/9': 200,
      '/throw': 500,
      '/reject': 500,
      '/reply-error': 500,
      '/teapot': 418,
      '/nope': 404,
    });
    const { samples, encoding } = await scrape(base);
    if (variant === 'compress') expectEqual('the scrape went through @fastify/compress', encoding, 'gzip');
    checkDefaults(samples, [
      { route: '/users/:id', status: 200, count: 2 },
      { route: '/api/users/:uid/posts/:pid', status: 200, count: 3 },
      { route: '/throw', status: 500, count: 1, exception: true },
      { route: '/reject', status: 500, count: 1, exception: true },
      { route: '/reply-error', status: 500, count: 1, exception: true },
      { route: '/teapot', status: 418, count: 1 },
      { route: '<unmatched>', status: 404, count: 2 },
    ]);
    if (tracing) {
      await tracing.provider.forceFlush();
      const scopes = tracing.scopes();
      expectEqual(
        'OpenTelemetry traced the requests (http instrumentation and @fastify/otel)',
        scopes.includes('@opentelemetry/instrumentation-http') && scopes.some((s) => s.includes('fastify')),
        true,
      );
    }
  } finally {
    await app.close();
  }
}

/** `groupBy: 'endpoint'`: the label is the route handler's name (the template when it has none). */
async function endpoints() {
  const app = Fastify();
  if (tracing) await app.register(tracing.fastifyOtel.plugin());
  await app.register(fastifyMetrics, { registry: new Registry(), collectDefaultMetrics: false, groupBy: 'endpoint' });
  app.get('/users/:id', async function readUser() {
    return 'user';
  });
  app.register(
    async function api(instance) {
      instance.get('/posts/:pid', async function readPost() {
        return 'post';
      });
    },
    { prefix: '/api' },
  );
  app.get('/anonymous', async () => 'anonymous');
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    await send(base, [
      ['/users/1', 2],
      ['/api/posts/3', 1],
      ['/anonymous', 1],
    ]);
    const { samples } = await scrape(base);
    const count = (endpoint) => value(samples, 'http_request_total', { method: 'GET', endpoint, status: '200' });
    expectEqual(
      'groupBy endpoint: the named handlers and the template of the anonymous one',
      [count('readUser'), count('readPost'), count('/anonymous')],
      [2, 1, 1],
      // @fastify/otel's onRoute hook replaces every route handler with its `handlerWrapped`, and the adapter reads
      // the handler's name at request time: every route then counts as `handlerWrapped`, whatever the order of
      // registration.
      tracing ? 'with @fastify/otel every route is endpoint="handlerWrapped"' : undefined,
    );
  } finally {
    await app.close();
  }
}

main()
  .then(endpoints)
  .then(done, (error) => {
    fail('the check script', error);
    done();
  });
