import { createServer, type Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { resetWarnings } from '@prom-http/core/internal';
import cors from 'cors';
import type { NextFunction, Request, Response } from 'express';
import express5 from 'express';
import express4 from 'express4';
import { Registry } from 'prom-client';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleValue } from '../../../test/helpers/exposition.js';
import { metrics } from './index.js';
import { endpointName, routeTemplate, walkCount } from './route-template.js';

type Express = typeof express5;

interface Labels {
  status: number;
  template: string | undefined;
  endpoint: string | undefined;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A test app whose first middleware reads both labels when the response has finished, as the adapter does. */
function harness(express: Express) {
  const app = express();
  const seen: Omit<Labels, 'status'>[] = [];
  app.use(function recordLabels(req: Request, res: Response, next: NextFunction) {
    res.on('finish', function readLabels() {
      seen.push({ template: routeTemplate(req), endpoint: endpointName(req) });
    });
    next();
  });
  let server: Server | undefined;
  async function hit(path: string, method: 'get' | 'post' | 'head' | 'delete' | 'options' = 'get'): Promise<Labels> {
    if (server === undefined) {
      const listening = createServer(app);
      servers.push(listening);
      await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
      server = listening;
    }
    const before = seen.length;
    const res = await request(server)[method](path);
    while (seen.length === before) await delay(1);
    const labels = seen[before];
    if (labels === undefined) throw new Error('no labels recorded');
    return { status: res.status, ...labels };
  }
  return { app, hit };
}

function ok(req: Request, res: Response) {
  res.json(req.params);
}

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as Express],
])('%s', (_name, express) => {
  it('labels a plain route and a route with params by their templates', async () => {
    const { app, hit } = harness(express);
    app.get('/health', function health(_req, res) {
      res.send('ok');
    });
    app.get('/users/:id', ok);
    expect(await hit('/health')).toEqual({ status: 200, template: '/health', endpoint: 'health' });
    expect(await hit('/users/42')).toEqual({ status: 200, template: '/users/:id', endpoint: 'ok' });
    expect(await hit('/users/43?x=1')).toMatchObject({ template: '/users/:id' });
  });

  it('joins every router mount prefix: app.use(/api, r); r.use(/users/:uid, s); s.get(/posts/:pid)', async () => {
    const { app, hit } = harness(express);
    const r = express.Router();
    const s = express.Router();
    s.get('/posts/:pid', ok);
    r.use('/users/:uid', s);
    app.use('/api', r);
    expect(await hit('/api/users/7/posts/9')).toMatchObject({ status: 200, template: '/api/users/:uid/posts/:pid' });
    expect(await hit('/API/users/8/posts/10/')).toMatchObject({ status: 200, template: '/api/users/:uid/posts/:pid' });
  });

  it('renders a router root route as the bare prefix and ignores root and trailing-slash mounts', async () => {
    const { app, hit } = harness(express);
    const r = express.Router();
    r.get('/', ok);
    r.get('/leaf', ok);
    const root = express.Router();
    root.get('/plain', ok);
    const slash = express.Router();
    slash.get('/slashed/:id', ok);
    app.use('/api', r);
    app.use(root);
    app.use('/', slash);
    const trailing = express.Router();
    trailing.get('/leaf', ok);
    app.use('/trail/', trailing);
    app.get('/', ok);
    expect(await hit('/api')).toMatchObject({ status: 200, template: '/api' });
    expect(await hit('/api/')).toMatchObject({ status: 200, template: '/api' });
    expect(await hit('/api/leaf')).toMatchObject({ status: 200, template: '/api/leaf' });
    expect(await hit('/plain')).toMatchObject({ status: 200, template: '/plain' });
    expect(await hit('/slashed/3')).toMatchObject({ status: 200, template: '/slashed/:id' });
    expect(await hit('/trail/leaf')).toMatchObject({ status: 200, template: '/trail/leaf' });
    expect(await hit('/')).toMatchObject({ status: 200, template: '/' });
  });

  it('labels app.route(path).get().post() per method', async () => {
    const { app, hit } = harness(express);
    app
      .route('/things/:id')
      .get(function getThing(_req, res) {
        res.send('got');
      })
      .post(function postThing(_req, res) {
        res.status(201).send('posted');
      });
    expect(await hit('/things/1')).toEqual({ status: 200, template: '/things/:id', endpoint: 'getThing' });
    expect(await hit('/things/1', 'post')).toEqual({ status: 201, template: '/things/:id', endpoint: 'postThing' });
    // HEAD runs the GET handler when the route has no HEAD of its own.
    expect(await hit('/things/1', 'head')).toEqual({ status: 200, template: '/things/:id', endpoint: 'getThing' });
  });

  it('includes the mount path of a sub-app and of the routers inside it', async () => {
    const { app, hit } = harness(express);
    const admin = express();
    const panel = express.Router();
    panel.get('/users/:id', ok);
    admin.use('/panel', panel);
    admin.get('/stats', function stats(_req, res) {
      res.send('s');
    });
    const deep = express();
    deep.get('/leaf/:x', ok);
    admin.use('/deep/:d', deep);
    app.use('/admin', admin);
    expect(await hit('/admin/panel/users/5')).toMatchObject({ status: 200, template: '/admin/panel/users/:id' });
    expect(await hit('/admin/stats')).toEqual({ status: 200, template: '/admin/stats', endpoint: 'stats' });
    expect(await hit('/admin/deep/1/leaf/2')).toMatchObject({ status: 200, template: '/admin/deep/:d/leaf/:x' });
  });

  it('gives a router mounted at two prefixes the prefix each request came through', async () => {
    const { app, hit } = harness(express);
    const shared = express.Router();
    shared.get('/items/:id', ok);
    shared.get('/', ok);
    app.use('/v1', shared);
    app.use('/tenants/:tid', shared);
    app.use(['/a', '/b/:x'], shared);
    expect(await hit('/v1/items/1')).toMatchObject({ status: 200, template: '/v1/items/:id' });
    expect(await hit('/tenants/acme/items/1')).toMatchObject({ status: 200, template: '/tenants/:tid/items/:id' });
    expect(await hit('/v1/items/2')).toMatchObject({ status: 200, template: '/v1/items/:id' });
    expect(await hit('/tenants/acme')).toMatchObject({ status: 200, template: '/tenants/:tid' });
    expect(await hit('/b/9/items/3')).toMatchObject({ status: 200, template: '/b/:x/items/:id' });
    expect(await hit('/a/items/3')).toMatchObject({ status: 200, template: '/a/items/:id' });
    expect(await hit('/V1/items/4')).toMatchObject({ status: 200, template: '/v1/items/:id' });
  });

  it('picks the chain inside a sub-app, behind the sub-app mount', async () => {
    const { app, hit } = harness(express);
    const admin = express();
    const shared = express.Router();
    shared.get('/items', ok);
    admin.use('/x', shared);
    admin.use('/y/:y', shared);
    app.use('/admin/:org', admin);
    expect(await hit('/admin/o1/y/2/items')).toMatchObject({ status: 200, template: '/admin/:org/y/:y/items' });
    expect(await hit('/admin/o1/x/items')).toMatchObject({ status: 200, template: '/admin/:org/x/items' });
  });

  it('labels a mergeParams router by the full template', async () => {
    const { app, hit } = harness(express);
    const orders = express.Router({ mergeParams: true });
    orders.get('/orders/:oid', ok);
    app.use('/customers/:cid', orders);
    const res = await hit('/customers/c1/orders/o2');
    expect(res).toMatchObject({ status: 200, template: '/customers/:cid/orders/:oid', endpoint: 'ok' });
  });

  it('labels an async handler that responds later', async () => {
    const { app, hit } = harness(express);
    const r = express.Router();
    r.get('/slow/:id', async function slow(_req: Request, res: Response) {
      await delay(20);
      res.send('late');
    });
    app.use('/api', r);
    expect(await hit('/api/slow/1')).toEqual({ status: 200, template: '/api/slow/:id', endpoint: 'slow' });
  });

  it('gives undefined when no route matched', async () => {
    const { app, hit } = harness(express);
    app.get('/exists', ok);
    app.use(function appLevel(req, res, next) {
      if (req.path === '/static.txt') res.send('file');
      else next();
    });
    expect(await hit('/nope')).toEqual({ status: 404, template: undefined, endpoint: undefined });
    expect(await hit('/static.txt')).toEqual({ status: 200, template: undefined, endpoint: undefined });
  });

  it('keeps the route a request matched when a later middleware sends the response', async () => {
    // Express leaves req.route set after the route calls next(): the label is that route's.
    const { app, hit } = harness(express);
    app.get('/pass/:id', function passOn(_req, _res, next) {
      next();
    });
    app.use(function fallback(_req: Request, res: Response) {
      res.status(418).send('tea');
    });
    expect(await hit('/pass/1')).toEqual({ status: 418, template: '/pass/:id', endpoint: 'passOn' });
  });

  it('names the endpoint by the final handler for the method, or the template when it is anonymous', async () => {
    const { app, hit } = harness(express);
    const r = express.Router();
    r.get('/anon/:id', (_req, res) => {
      res.send('a');
    });
    r.get(
      '/multi',
      function first(_req: Request, _res: Response, next: NextFunction) {
        next();
      },
      function last(_req: Request, res: Response) {
        res.send('m');
      },
    );
    r.route('/mixed')
      .get(function getMixed(_req, res) {
        res.send('g');
      })
      .all(function audit(_req, _res, next) {
        next();
      })
      .delete(function deleteMixed(_req, res) {
        res.send('d');
      });
    app.use('/e', r);
    expect(await hit('/e/anon/1')).toEqual({ status: 200, template: '/e/anon/:id', endpoint: '/e/anon/:id' });
    expect(await hit('/e/multi')).toEqual({ status: 200, template: '/e/multi', endpoint: 'last' });
    expect(await hit('/e/mixed')).toEqual({ status: 200, template: '/e/mixed', endpoint: 'audit' });
    expect(await hit('/e/mixed', 'delete')).toEqual({ status: 200, template: '/e/mixed', endpoint: 'deleteMixed' });
  });

  it('renders RegExp and array route paths as stable strings', async () => {
    const { app, hit } = harness(express);
    const r = express.Router();
    r.get(/^\/re\/\d+$/, ok);
    r.get(['/one', '/two/:n'], ok);
    app.use('/p', r);
    app.get(/^\/top$/i, ok);
    expect(await hit('/p/re/12')).toMatchObject({ status: 200, template: '/p/^\\/re\\/\\d+$/' });
    expect(await hit('/p/one')).toMatchObject({ status: 200, template: '/p/one,/two/:n' });
    expect(await hit('/p/two/2')).toMatchObject({ status: 200, template: '/p/one,/two/:n' });
    expect(await hit('/top')).toMatchObject({ status: 200, template: '/^\\/top$/i' });
  });

  it('labels a router that is only reached through a wrapper function by its own path', async () => {
    // The mount chain is invisible from the app, so the prefix is unknown; the route path is still bounded.
    const { app, hit } = harness(express);
    const hidden = express.Router();
    hidden.get('/thing/:id', ok);
    app.use('/wrapped', function lazy(req: Request, res: Response, next: NextFunction) {
      hidden(req, res, next);
    });
    expect(await hit('/wrapped/thing/1')).toMatchObject({ status: 200, template: '/thing/:id' });
  });

  it('walks the router tree once, not on every request, and again only for a route not seen yet', async () => {
    const { app, hit } = harness(express);
    const r = express.Router();
    r.get('/a/:id', ok);
    r.get('/b', ok);
    app.use('/api', r);
    const start = walkCount();
    expect(await hit('/api/a/1')).toMatchObject({ template: '/api/a/:id' });
    expect(walkCount()).toBe(start + 1);
    expect(await hit('/api/a/2')).toMatchObject({ template: '/api/a/:id' });
    expect(await hit('/api/b')).toMatchObject({ template: '/api/b' });
    expect(await hit('/nope')).toMatchObject({ template: undefined });
    expect(walkCount()).toBe(start + 1);
    r.get('/c', ok);
    expect(await hit('/api/c')).toMatchObject({ template: '/api/c' });
    expect(walkCount()).toBe(start + 2);
    expect(await hit('/api/c')).toMatchObject({ template: '/api/c' });
    expect(walkCount()).toBe(start + 2);
  });

  it('keeps apart the same router used by two different apps', async () => {
    const shared = express.Router();
    shared.get('/s', ok);
    const one = harness(express);
    one.app.use('/one', shared);
    const two = harness(express);
    two.app.use('/two', shared);
    expect(await one.hit('/one/s')).toMatchObject({ template: '/one/s' });
    expect(await two.hit('/two/s')).toMatchObject({ template: '/two/s' });
    expect(await one.hit('/one/s')).toMatchObject({ template: '/one/s' });
  });

  it('tells apart routes of the same path in different routers, by mount and by method', async () => {
    const { app, hit } = harness(express);
    const x = express.Router();
    x.get('/x', ok);
    x.get('/', ok);
    const y = express.Router();
    y.post('/x', ok);
    y.get('/', ok);
    app.use('/a', x);
    app.use('/:any', y);
    expect(await hit('/a/x', 'post')).toMatchObject({ status: 200, template: '/:any/x' });
    expect(await hit('/a/x')).toMatchObject({ status: 200, template: '/a/x' });
    expect(await hit('/b/x', 'post')).toMatchObject({ status: 200, template: '/:any/x' });
    expect(await hit('/b')).toMatchObject({ status: 200, template: '/:any' });
    expect(await hit('/a')).toMatchObject({ status: 200, template: '/a' });
  });

  it('labels an error a sub-app passes to the parent error handler with the sub-app mount prefix', async () => {
    const registry = new Registry();
    const app = express();
    app.use(metrics({ registry, collectDefaultMetrics: false }));
    for (const version of ['v1', 'v2']) {
      const sub = express();
      sub.get('/ok', ok);
      sub.get('/err/:id', function fail(_req: Request, _res: Response, next: NextFunction) {
        next(new Error(version));
      });
      app.use(`/${version}`, sub);
    }
    app.get('/err/:id', function failRoot(_req: Request, _res: Response, next: NextFunction) {
      next(new Error('root'));
    });
    app.use(function parentErrors(err: Error, _req: Request, res: Response, _next: NextFunction) {
      res.status(500).send(err.message);
    });
    if (express === (express4 as unknown)) {
      // Without router's error events (Express 4), a sub-app is known once it has answered a request itself.
      await request(app).get('/v1/ok');
      await request(app).get('/v2/ok');
    }
    expect((await request(app).get('/v1/err/1')).text).toBe('v1');
    expect((await request(app).get('/v2/err/2')).text).toBe('v2');
    expect((await request(app).get('/err/3')).text).toBe('root');
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_total', { path: '/v1/err/:id', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/v2/err/:id', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/err/:id', status: '500' })).toBe(1);
  });

  it('labels a CORS preflight answered by the cors middleware <unmatched>, and one answered by a route its template', async () => {
    const { app, hit } = harness(express);
    app.use('/open', cors());
    app.get('/open/items/:id', ok);
    app.options('/guarded/:id', cors());
    app.get('/guarded/:id', cors(), ok);
    app.get('/plain/:id', ok);
    expect(await hit('/open/items/1', 'options')).toEqual({ status: 204, template: undefined, endpoint: undefined });
    expect(await hit('/guarded/1', 'options')).toEqual({ status: 204, template: '/guarded/:id', endpoint: 'corsMiddleware' });
    // Express answers an OPTIONS no route handles itself (its Allow header): no route ran.
    expect(await hit('/plain/1', 'options')).toEqual({ status: 200, template: undefined, endpoint: undefined });
  });

  it('reads a pathological router tree in bounded time', async () => {
    // Each router mounted twice into the next: 2^24 mount chains down to the one route.
    const { app, hit } = harness(express);
    let inner = express.Router();
    inner.get('/leaf', ok);
    for (let i = 0; i < 24; i++) {
      const outer = express.Router();
      outer.use('/a', inner);
      outer.use('/b', inner);
      inner = outer;
    }
    app.use(inner);
    const started = performance.now();
    expect(await hit(`${'/a'.repeat(24)}/leaf`)).toMatchObject({ status: 200, template: `${'/a'.repeat(24)}/leaf` });
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

/**
 * Replaces a router's stack with an array-like of the same layers: the router still dispatches it (it reads
 * `length` and indexes), but it is no Array, as if the router kept its layers where no version of this
 * package can read them.
 */
function hideStack(router: unknown): void {
  const r = router as { stack: unknown[] };
  const layers = r.stack;
  r.stack = Object.setPrototypeOf(Object.assign({ length: layers.length }, layers), Array.prototype);
}

function removeListRoutes(router: unknown): void {
  Object.defineProperty(router, 'listRoutes', { value: undefined });
}

const UNREADABLE = 'PROMHTTP_EXPRESS_ROUTES_UNREADABLE';

async function warningsDuring(code: string, run: () => Promise<void>): Promise<Error[]> {
  resetWarnings(code as `PROMHTTP_${string}`);
  const seen: Error[] = [];
  function onWarning(warning: Error & { code?: string }) {
    if (warning.code === code) seen.push(warning);
  }
  process.on('warning', onWarning);
  try {
    await run();
    // process.emitWarning emits on the next tick.
    await delay(10);
  } finally {
    process.off('warning', onWarning);
  }
  return seen;
}

describe('hook points', () => {
  it.each([
    ['Express 5', express5],
    ['Express 4', express4 as unknown as Express],
  ])('%s: a route whose handlers cannot be read gets its template as endpoint, and one coded warning', async (_name, express) => {
    const { app, hit } = harness(express);
    app.get('/things/:id', function readThing(_req: Request, res: Response) {
      res.send('thing');
    });
    await hit('/things/0');
    const route = app as unknown as { _router?: { stack: Array<{ route?: unknown }> }; router?: { stack: Array<{ route?: unknown }> } };
    const layer = ('_router' in route ? route._router : route.router)?.stack.find((l) => l.route !== undefined);
    expect(await hit('/things/1')).toEqual({ status: 200, template: '/things/:id', endpoint: 'readThing' });
    hideStack(layer?.route);
    // GET's handler name is kept from before; HEAD's is read now, from the hidden stack.
    const labels: Labels[] = [];
    const warnings = await warningsDuring('PROMHTTP_EXPRESS_ENDPOINT_UNREADABLE', async () => {
      labels.push(await hit('/things/3', 'head'));
      labels.push(await hit('/things/4', 'head'));
    });
    expect(labels).toEqual([
      { status: 200, template: '/things/:id', endpoint: '/things/:id' },
      { status: 200, template: '/things/:id', endpoint: '/things/:id' },
    ]);
    expect(warnings).toHaveLength(1);
  });

  it('Express 5: reads templates through listRoutes() alone, whatever its stack looks like', async () => {
    const { app, hit } = harness(express5);
    const r = express5.Router();
    const s = express5.Router();
    s.get('/posts/:pid', ok);
    r.use('/users/:uid', s);
    r.get('/items/:id', ok);
    app.use('/api', r);
    // (router's listRoutes() itself recognises a mounted router by its array stack.)
    hideStack(app.router);
    const warnings = await warningsDuring(UNREADABLE, async () => {
      expect(await hit('/api/items/1')).toMatchObject({ status: 200, template: '/api/items/:id' });
      expect(await hit('/api/users/1/posts/2')).toMatchObject({ status: 200, template: '/api/users/:uid/posts/:pid' });
    });
    expect(warnings).toHaveLength(0);
  });

  it('Express 5 without listRoutes() (router < 2.3): reads the router stack, without a warning', async () => {
    const { app, hit } = harness(express5);
    const r = express5.Router();
    r.get('/items/:id', ok);
    app.use('/api', r);
    removeListRoutes(app.router);
    const warnings = await warningsDuring(UNREADABLE, async () => {
      expect(await hit('/api/items/1')).toMatchObject({ status: 200, template: '/api/items/:id' });
    });
    expect(warnings).toHaveLength(0);
  });

  it.each([
    ['Express 5 without listRoutes() nor a readable stack', express5],
    ['Express 4 without a readable stack', express4 as unknown as Express],
  ])('%s: counts every request by the route path, and warns once', async (_name, express) => {
    const registry = new Registry();
    const app = express();
    // Keeps the metrics layer from being the first one, so the stack stays as this test makes it.
    app.use(function before(_req: Request, _res: Response, next: NextFunction) {
      next();
    });
    app.use(metrics({ registry, collectDefaultMetrics: false }));
    const r = express.Router();
    r.get('/items/:id', ok);
    app.use('/api', r);
    const root = express === express5 ? app.router : (app as unknown as { _router: unknown })._router;
    removeListRoutes(root);
    hideStack(root);
    const warnings = await warningsDuring(UNREADABLE, async () => {
      expect((await request(app).get('/api/items/1')).status).toBe(200);
      expect((await request(app).get('/api/items/2')).status).toBe(200);
      expect((await request(app).get('/nope')).status).toBe(404);
    });
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_total', { method: 'GET', path: '/items/:id', status: '200' })).toBe(2);
    expect(sampleValue(text, 'http_request_total', { method: 'GET', path: '<unmatched>', status: '404' })).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.name).toBe('PromHttpWarning');
  });
});

describe('Express 5 errors (router error events)', () => {
  it('keeps the prefix a request came through when the error of a router mounted twice ends in the app', async () => {
    const registry = new Registry();
    const app = express5();
    app.use(metrics({ registry, collectDefaultMetrics: false }));
    const shared = express5.Router();
    shared.get('/items/:id', function fail(_req: Request, _res: Response, next: NextFunction) {
      next(new Error('shared'));
    });
    app.use('/v1', shared);
    app.use('/tenants/:tid', shared);
    const sub = express5();
    const inner = express5.Router();
    inner.get('/err/:id', async function rejects() {
      throw new Error('inner');
    });
    sub.use('/inner', inner);
    app.use('/v3', sub);
    app.use(function appErrors(err: Error, _req: Request, res: Response, _next: NextFunction) {
      res.status(500).send(err.message);
    });
    await request(app).get('/tenants/acme/items/1');
    await request(app).get('/v1/items/2');
    await request(app).get('/v3/inner/err/3');
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_total', { path: '/tenants/:tid/items/:id', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/v1/items/:id', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/v3/inner/err/:id', status: '500' })).toBe(1);
  });
});

describe('Express 4 mount paths (rebuilt from path-to-regexp 0.1 RegExps)', () => {
  // Each mount holds a router with `/leaf` and `/`; greedy mounts leave only `/` to the router.
  it.each([
    ['/f/:from-:to', '/f/a-b/leaf', '/f/:from-:to/leaf'],
    ['/file.:ext', '/file.json/leaf', '/file.:ext/leaf'],
    ['/x/:id(\\d+)', '/x/12/leaf', '/x/:id(\\d+)/leaf'],
    ['/opt/:v?', '/opt/x/leaf', '/opt/:v?/leaf'],
    ['/opt/:v?', '/opt', '/opt/:v?'],
    ['/s/:p*', '/s/a/b', '/s/:p*'],
    ['/w/*', '/w/x/y', '/w/*'],
    ['/a.b/:c', '/a.b/1/leaf', '/a.b/:c/leaf'],
    ['/g/(grp)', '/g/grp/leaf', '/g/(grp)/leaf'],
    ['/T/:t/', '/t/1/leaf', '/T/:t/leaf'],
  ])('%s (%s)', async (mount, url, template) => {
    const { app, hit } = harness(express4 as unknown as Express);
    const r = express4.Router();
    r.get('/leaf', ok);
    r.get('/', ok);
    app.use(mount, r);
    expect(await hit(url)).toMatchObject({ status: 200, template });
  });

  it('renders a RegExp mount as the RegExp', async () => {
    const { app, hit } = harness(express4 as unknown as Express);
    const r = express4.Router();
    r.get('/leaf', ok);
    app.use(/^\/v\d+/, r);
    expect(await hit('/v2/leaf')).toMatchObject({ status: 200, template: '/^\\/v\\d+//leaf' });
  });
});

describe('Express 5 mount paths', () => {
  it.each([
    ['/files{/:name}', '/files/n/leaf', '/files{/:name}/leaf'],
    ['/files{/:name}', '/files', '/files{/:name}'],
    ['/any/*splat', '/any/a/b', '/any/*splat'],
  ])('%s (%s)', async (mount, url, template) => {
    const { app, hit } = harness(express5);
    const r = express5.Router();
    r.get('/leaf', ok);
    r.get('/', ok);
    app.use(mount, r);
    expect(await hit(url)).toMatchObject({ status: 200, template });
  });
});

describe('never throws', () => {
  it('returns undefined for requests without a usable route', () => {
    const odd = [{}, { route: null }, { route: { stack: 'no' } }, { route: 5 }, Object.create(null)];
    for (const req of odd) {
      expect(routeTemplate(req as Request)).toBeUndefined();
      expect(endpointName(req as Request)).toBeUndefined();
    }
  });

  it('falls back to the route path when req.app is not an app, and survives hostile getters', () => {
    const route = { path: '/r/:id', stack: [{ method: 'get', handle: function named() {} }] };
    expect(routeTemplate({ route, method: 'GET' } as unknown as Request)).toBe('/r/:id');
    expect(endpointName({ route, method: 'GET' } as unknown as Request)).toBe('named');
    const hostile = Object.defineProperty({ route }, 'app', {
      get() {
        throw new Error('nope');
      },
    });
    expect(routeTemplate(hostile as unknown as Request)).toBeUndefined();
    expect(endpointName(hostile as unknown as Request)).toBeUndefined();
  });

  it('labels a route by its documented path alone when its handlers cannot be read', () => {
    const route = { path: '/r/:id' };
    expect(routeTemplate({ route, method: 'GET' } as unknown as Request)).toBe('/r/:id');
    expect(endpointName({ route, method: 'GET' } as unknown as Request)).toBe('/r/:id');
  });
});
