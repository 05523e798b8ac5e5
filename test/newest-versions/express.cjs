'use strict';
/**
 * Express as a user writes it, with @prom-http/express from its tarball: counts, route templates through nested
 * routers, exceptions (thrown, rejected, next(err)), the 404 bucket, handler names for `groupBy: 'endpoint'`. `node express.cjs plain|otel|compression`:
 * alone, beside the OpenTelemetry instrumentations (CommonJS, so their require hook patches express), or behind
 * the compression middleware. Run in the app's directory gives the newest Express 5; in express4/, Express 4.
 */
const { checkDefaults, done, expectEqual, fail, scrape, send, value } = require('./check.cjs');

const variant = process.argv[2] ?? 'plain';
const tracing = variant === 'otel' ? require('./otel.cjs').startTracing('express') : undefined;

const express = require('express');
const { metrics } = require('@prom-http/express');
const { Registry } = require('prom-client');

const version = require('express/package.json').version;
const major = Number(version.split('.')[0]);
console.log(`express ${version}, prom-client ${require('prom-client/package.json').version}, ${variant}`);

async function main() {
  const app = express();
  if (variant === 'compression') app.use(require('compression')({ threshold: 0 }));
  app.use(metrics({ registry: new Registry(), collectDefaultMetrics: false }));

  app.get('/users/:id', function user(req, res) {
    res.json({ id: req.params.id, padding: 'x'.repeat(2000) });
  });
  const api = express.Router();
  const users = express.Router({ mergeParams: true });
  app.use('/api', api);
  api.use('/users/:uid', users);
  users.get('/posts/:pid', function post(req, res) {
    res.send(`${req.params.uid}/${req.params.pid}`);
  });
  app.get('/throw', function throws() {
    throw new Error('thrown');
  });
  // Express 4 does not catch a rejected promise: the request would hang.
  if (major >= 5) {
    app.get('/reject', async function rejects() {
      throw new Error('rejected');
    });
  }
  app.get('/next-error', function passes(_req, _res, next) {
    next(new Error('passed to next'));
  });
  app.get('/teapot', function teapot(_req, _res, next) {
    next(Object.assign(new Error('an HTTP error'), { status: 418 }));
  });
  // A response sent by app-level middleware, as a static file server sends one: no route matched it.
  app.use('/static', function serveStatic(_req, res) {
    res.send('body { }');
  });
  // Quiet: the default error handler would print every expected error's stack.
  app.use(function errorHandler(err, _req, res, _next) {
    res.status(err.status ?? 500).send(err.message);
  });

  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const requests = [
      ['/users/1', 1],
      ['/users/2', 1],
      ['/api/users/7/posts/9', 3],
      ['/throw', 1],
      ['/next-error', 1],
      ['/teapot', 1],
      ['/nope', 2],
      ['/static/site.css', 1],
    ];
    if (major >= 5) requests.push(['/reject', 1]);
    const statuses = await send(base, requests);
    expectEqual('statuses', statuses, {
      '/users/1': 200,
      '/users/2': 200,
      '/api/users/7/posts/9': 200,
      '/throw': 500,
      '/next-error': 500,
      '/teapot': 418,
      '/nope': 404,
      '/static/site.css': 200,
      ...(major >= 5 ? { '/reject': 500 } : {}),
    });
    const { samples, encoding } = await scrape(base);
    if (variant === 'compression') expectEqual('the scrape went through compression', encoding, 'gzip');
    checkDefaults(samples, [
      { route: '/users/:id', status: 200, count: 2 },
      { route: '/api/users/:uid/posts/:pid', status: 200, count: 3 },
      { route: '/throw', status: 500, count: 1, exception: true },
      { route: '/next-error', status: 500, count: 1, exception: true },
      { route: '/teapot', status: 418, count: 1 },
      { route: '<unmatched>', status: 404, count: 2 },
      { route: '<unmatched>', status: 200, count: 1 },
      ...(major >= 5 ? [{ route: '/reject', status: 500, count: 1, exception: true }] : []),
    ]);
    if (tracing) {
      await tracing.provider.forceFlush();
      const scopes = tracing.scopes();
      expectEqual(
        'OpenTelemetry traced the requests (http and express instrumentations)',
        ['@opentelemetry/instrumentation-express', '@opentelemetry/instrumentation-http'].filter((s) => scopes.includes(s)),
        ['@opentelemetry/instrumentation-express', '@opentelemetry/instrumentation-http'],
      );
    }
  } finally {
    server.close();
  }
}

/**
 * `groupBy: 'endpoint'`: the label is the route handler's name (the template when it has none). Instrumentation
 * that wraps route handlers must not change it.
 */
async function endpoints() {
  const registry = new Registry();
  const app = express();
  app.use(metrics({ registry, collectDefaultMetrics: false, groupBy: 'endpoint' }));
  app.get('/users/:id', function readUser(_req, res) {
    res.send('user');
  });
  const api = express.Router();
  app.use('/api', api);
  api.get('/posts/:pid', function readPost(_req, res) {
    res.send('post');
  });
  app.get('/anonymous', (_req, res) => {
    res.send('anonymous');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const base = `http://127.0.0.1:${server.address().port}`;
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
    );
  } finally {
    server.close();
  }
}

main()
  .then(endpoints)
  .then(done, (error) => {
    fail('the check script', error);
    done();
  });
