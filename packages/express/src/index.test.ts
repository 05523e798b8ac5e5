import { request as httpRequest, IncomingMessage, type Server, ServerResponse } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { Duplex, Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import express5 from 'express';
import express4 from 'express4';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../test/helpers/client.js';
import { parseExposition, samples, sampleValue } from '../../../test/helpers/exposition.js';
import { type ExpressMetricsOptions, metrics } from './index.js';

type Express = typeof express5;
const servers: Server[] = [];
/** The app's root router stack: Express 4 keeps it at `_router` (its `app.router` throws), Express 5 at `router`. */
function rootStack(app: object): Array<{ handle: unknown }> {
  const a = app as { _router?: { stack: Array<{ handle: unknown }> }; router?: { stack: Array<{ handle: unknown }> } };
  return ('_router' in a ? a._router?.stack : a.router?.stack) ?? [];
}
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as Express],
])('%s middleware', (_name, express) => {
  function build(options: ExpressMetricsOptions = {}, routes?: (app: ReturnType<Express>, m: ReturnType<typeof metrics>) => void) {
    const registry = new Registry();
    const app = express();
    const m = metrics({ registry, collectDefaultMetrics: false, ...options });
    app.use(m);
    app.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const api = express.Router();
    const users = express.Router({ mergeParams: true });
    const posts = express.Router({ mergeParams: true });
    posts.get('/posts/:pid', (req, res) => {
      res.json(req.params);
    });
    users.use('/users/:uid', posts);
    api.use('/', users);
    app.use('/api', api);
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/async-boom', async () => {
      throw new Error('async boom');
    });
    app.get('/next-boom', (_req, _res, next) => {
      next(new Error('next boom'));
    });
    app.get('/teapot', (_req, _res, next) => {
      next(Object.assign(new Error('teapot'), { status: 418 }));
    });
    app.get('/handled', (_req, _res, next) => {
      next(new Error('handled'));
    });
    routes?.(app, m);
    app.use((err: Error & { status?: number }, _req: unknown, res: express5.Response, next: (e: unknown) => void) => {
      if (err.message === 'handled') {
        res.status(200).json({ handled: true });
        return;
      }
      next(err);
    });
    return { app, registry, m };
  }
  const scrape = async (app: ReturnType<Express>, url = '/metrics') => (await request(app).get(url)).text;

  it('records method, full route template and status once per request', async () => {
    const { app } = build();
    await request(app).get('/users/1');
    await request(app).get('/users/2');
    await request(app).get('/api/users/7/posts/9?x=1');
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_total', { method: 'GET', path: '/users/:id', status: '200' })).toBe(2);
    expect(sampleValue(text, 'http_request_total', { path: '/api/users/:uid/posts/:pid', status: '200' })).toBe(1);
    expect(sampleValue(text, 'http_request_duration_seconds_count', { path: '/users/:id' })).toBe(2);
    expect(samples(text, 'http_request_duration_seconds_bucket').filter((s) => s.labels.path === '/users/:id')).toHaveLength(15);
    expect(sampleValue(text, 'exporter_info', { version: '0.1.0' })).toBe(1);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
    expect(text).not.toContain('path="/metrics"');
  });

  it('labels unmatched requests and static-file style responses <unmatched>', async () => {
    const { app } = build({}, (a) => {
      a.use((req, res, next) => {
        if (req.path === '/static.txt') res.send('file');
        else next();
      });
    });
    await request(app).get('/nope/1');
    await request(app).get('/nope/2');
    await request(app).get('/static.txt');
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_total', { path: '<unmatched>', status: '404' })).toBe(2);
    expect(sampleValue(text, 'http_request_total', { path: '<unmatched>', status: '200' })).toBe(1);
  });

  it('counts thrown, rejected and next(err) exceptions but not 4xx errors, with the status sent', async () => {
    const { app } = build();
    await request(app).get('/boom');
    await request(app).get('/next-boom');
    await request(app).get('/teapot');
    await request(app).get('/handled');
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/boom', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/boom', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/next-boom', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/teapot' })).toBeUndefined();
    expect(sampleValue(text, 'http_request_total', { path: '/teapot', status: '418' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/handled', status: '200' })).toBe(1);
    if (express === express5) {
      await request(app).get('/async-boom');
      expect(sampleValue(await scrape(app), 'http_request_exceptions_total', { path: '/async-boom', status: '500' })).toBe(1);
    }
  });

  it('groupBy endpoint, url and a named function', async () => {
    const e = build({ groupBy: 'endpoint' }, (a) => {
      a.get('/named/:x', function namedHandler(_req, res) {
        res.send('x');
      });
    });
    await request(e.app).get('/named/1');
    await request(e.app).get('/users/5');
    await request(e.app).get('/missing');
    let text = await scrape(e.app);
    expect(sampleValue(text, 'http_request_total', { endpoint: 'namedHandler' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { endpoint: '/users/:id' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { endpoint: '<unmatched>' })).toBe(1);

    const u = build({ groupBy: 'url' });
    await request(u.app).get('/users/5?q=1');
    text = await scrape(u.app);
    expect(sampleValue(text, 'http_request_total', { url: '/users/5' })).toBe(1);

    const f = build({
      groupBy: function tenant(req) {
        return req.get('x-tenant') ?? 'none';
      },
    });
    await request(f.app).get('/users/1').set('x-tenant', 'acme');
    text = await scrape(f.app);
    expect(sampleValue(text, 'http_request_total', { tenant: 'acme' })).toBe(1);
  });

  it('folds route values past seriesLimit into <overflow>', async () => {
    const { app } = build({ groupBy: 'url', seriesLimit: 3 });
    for (let i = 0; i < 10; i++) await request(app).get(`/users/${i}`);
    const text = await scrape(app);
    expect(new Set(samples(text, 'http_request_total').map((s) => s.labels.url))).toEqual(
      new Set(['/users/0', '/users/1', '/users/2', '<overflow>']),
    );
    expect(sampleValue(text, 'http_request_total', { url: '<overflow>' })).toBe(7);
  });

  it('prefix, static and per-request default labels', async () => {
    const { app } = build({ prefix: 'express', defaultLabels: { service: 'api', region: (req) => req.get('x-region') } });
    await request(app).get('/users/1').set('x-region', 'eu');
    await request(app).get('/users/1');
    const text = await scrape(app);
    expect(sampleValue(text, 'express_http_request_total', { service: 'api', region: 'eu' })).toBe(1);
    expect(sampleValue(text, 'express_http_request_total', { service: 'api', region: '' })).toBe(1);
    expect(sampleValue(text, 'express_http_requests_in_progress', { method: 'GET', service: 'api' })).toBe(0);
  });

  it('excludedPaths are not recorded', async () => {
    const { app } = build({ excludedPaths: ['/health', /^\/api\//] }, (a) => {
      a.get('/health', (_req, res) => {
        res.send('ok');
      });
    });
    await request(app).get('/health');
    await request(app).get('/api/users/1/posts/2');
    await request(app).get('/users/1');
    const text = await scrape(app);
    expect(new Set(samples(text, 'http_request_total').map((s) => s.labels.path))).toEqual(new Set(['/users/:id']));
  });

  it('a second instance on the same registry reuses the metrics', async () => {
    const registry = new Registry();
    const a = express();
    const b = express();
    a.use(metrics({ registry, collectDefaultMetrics: false }));
    b.use(metrics({ registry, collectDefaultMetrics: false }));
    a.get('/x', (_req, res) => {
      res.send('a');
    });
    b.get('/x', (_req, res) => {
      res.send('b');
    });
    await request(a).get('/x');
    await request(b).get('/x');
    expect(sampleValue(await scrape(a), 'http_request_total', { path: '/x' })).toBe(2);
  });

  it('the same middleware mounted twice records a request once; two instances each record it', async () => {
    const shared = new Registry();
    const other = new Registry();
    const app = express();
    const m = metrics({ registry: shared, collectDefaultMetrics: false });
    const second = metrics({ registry: other, collectDefaultMetrics: false, groupBy: 'url' });
    const router = express.Router();
    app.use(m);
    app.use(second);
    router.use(m);
    router.get('/x/:id', (_req, res) => {
      res.send('x');
    });
    app.use('/r', router);
    await request(app).get('/r/x/1');
    await request(app).get('/r/x/2');
    expect(sampleValue((await m.generateMetrics()).body, 'http_request_total', { path: '/r/x/:id' })).toBe(2);
    const byUrl = (await second.generateMetrics()).body;
    expect(sampleValue(byUrl, 'http_request_total', { url: '/r/x/1' })).toBe(1);
    expect(sampleValue(byUrl, 'http_request_total', { url: '/r/x/2' })).toBe(1);
  });

  it('a middleware that replaces res.locals loses nothing: the request and its wrapper record once', async () => {
    const { app, m } = build({}, (a, mm) => {
      const c = mm.counter('locals_total', 'Locals');
      a.get(
        '/locals',
        (_req, res, next) => {
          res.locals = { user: 'u' };
          next();
        },
        c,
        (_req, res) => {
          res.send('ok');
        },
      );
    });
    await request(app).get('/locals');
    const text = (await m.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_total', { path: '/locals', status: '200' })).toBe(1);
    expect(sampleValue(text, 'locals_total')).toBe(1);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('a wrapper entered after the response finished starts nothing: the request counts once', async () => {
    const { app, m } = build({}, (a, mm) => {
      const c = mm.counter('after_total', 'After');
      a.get(
        '/after',
        (_req, res, next) => {
          res.send('done');
          res.once('finish', () => setImmediate(next));
        },
        c,
        (_req, _res) => {},
      );
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await (await fetch(`${base}/after`)).text()).toBe('done');
    await new Promise((r) => setTimeout(r, 50));
    const text = (await m.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_total', { path: '/after' })).toBe(1);
    // A counter with no per-request labels is exported at 0 from its creation.
    expect(sampleValue(text, 'after_total')).toBe(0);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('an error met before the middleware (handled, then passed on) still makes the request an exception', async () => {
    const registry = new Registry();
    const app = express();
    const m = metrics({ registry, collectDefaultMetrics: false });
    app.use((req: express5.Request, _res: unknown, next: (e?: unknown) => void) => {
      next(req.url.includes('fail') ? new Error('early') : undefined);
    });
    app.use((_err: unknown, _req: unknown, _res: unknown, next: () => void) => {
      next();
    });
    app.use(m);
    app.get('/late', (_req, res) => {
      res.send('ok');
    });
    // The first request goes through the middleware and taps the app's errors; the second meets one before it.
    await request(app).get('/late');
    await request(app).get('/late?fail=1');
    const text = (await m.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_total', { path: '/late', status: '200' })).toBe(2);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/late', status: '200' })).toBe(1);
  });

  it('records a request handed to the app without a Node server (a made-up request and response)', async () => {
    const { app, m } = build();
    const req = new IncomingMessage(new Socket());
    req.method = 'GET';
    req.url = '/users/5';
    const res = new ServerResponse(req);
    const sent = new Promise<void>((resolve) => res.once('finish', () => resolve()));
    // The made-up response's connection swallows what it sends; the response closes when told.
    const sink = new Duplex({ write: (_chunk, _encoding, done) => done(), read() {} });
    res.assignSocket(sink as Socket);
    app(req as never, res as never);
    await sent;
    res.emit('close');
    const text = (await m.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_total', { path: '/users/:id', status: '200' })).toBe(1);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('first in the app, it stays an ordinary layer: it records, serves and authorizes on every request', async () => {
    const seen: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = express();
    const m = metrics({
      registry: new Registry(),
      collectDefaultMetrics: false,
      authorize: (req) => req.headers['x-token'] === 't',
    });
    app.use(m);
    app.use(async (req, _res, next) => {
      if (req.query.wait === '1') await gate;
      next();
    });
    app.get('/users/:id', (req, res) => {
      seen.push(req.params.id as string);
      res.json({ id: req.params.id });
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stack = rootStack(app);
    const layer = stack.find((l) => l.handle === m);
    expect(layer).toBeDefined();

    const first = fetch(`${base}/users/1?wait=1`);
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${base}/users/2`)).status).toBe(200);
    release();
    expect((await first).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const scrape = await fetch(`${base}/metrics`, { headers: { 'x-token': 't' } });
    expect(scrape.status).toBe(200);
    expect((await fetch(`${base}/users/3`)).status).toBe(200);
    const text = (await m.generateMetrics()).body;
    expect(seen.sort()).toEqual(['1', '2', '3']);
    expect(sampleValue(text, 'http_request_total', { path: '/users/:id', status: '200' })).toBe(3);
    expect(sampleValue(text, 'http_request_total', { path: '/metrics' })).toBeUndefined();
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
    // Neither the router's stack nor its dispatch was touched: the same layer in the same array, no own `handle`.
    expect(rootStack(app)).toBe(stack);
    expect(rootStack(app)[stack.indexOf(layer as { handle: unknown })]).toBe(layer);
    const a = app as unknown as { _router?: object; router?: object };
    expect(Object.hasOwn(('_router' in a ? a._router : a.router) as object, 'handle')).toBe(false);
  });

  it("it records and serves requests that reach the app's router without the app", async () => {
    const app = express();
    const m = metrics({ registry: new Registry(), collectDefaultMetrics: false, authorize: (req) => req.headers['x-token'] === 't' });
    app.use(m);
    app.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    expect((await request(app).get('/users/1')).status).toBe(200);
    // Then the app's router alone, mounted in another app: the app itself never runs, only its router.
    const a = app as unknown as { _router?: unknown; router?: unknown };
    const router = ('_router' in a ? a._router : a.router) as express5.Router;
    const outer = express();
    outer.use(router);
    expect((await request(outer).get('/users/2')).status).toBe(200);
    expect((await request(outer).get('/metrics')).status).toBe(401);
    const scrape = await request(outer).get('/metrics').set('x-token', 't');
    expect(scrape.status).toBe(200);
    expect(sampleValue(scrape.text, 'http_request_total', { path: '/users/:id', status: '200' })).toBe(2);
    expect(sampleValue(scrape.text, 'http_request_total', { path: '/metrics' })).toBeUndefined();
    expect(sampleValue(scrape.text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('after another middleware, it keeps its layer: what that middleware answers is not recorded', async () => {
    const app = express();
    const m = metrics({ registry: new Registry(), collectDefaultMetrics: false });
    app.get('/early', (_req, res) => {
      res.send('early');
    });
    app.use(m);
    app.get('/late', (_req, res) => {
      res.send('late');
    });
    for (const url of ['/early', '/late', '/early', '/late']) await request(app).get(url);
    expect(rootStack(app).some((l) => l.handle === m)).toBe(true);
    const text = (await m.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_total', { path: '/late' })).toBe(2);
    expect(sampleValue(text, 'http_request_total', { path: '/early' })).toBeUndefined();
  });

  it('negotiates OpenMetrics, filters names, gzips, answers HEAD and refuses other methods', async () => {
    const { app } = build();
    await request(app).get('/users/1');
    const om = await request(app).get('/metrics').set('accept', 'application/openmetrics-text; version=1.0.0');
    expect(om.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.text.endsWith('# EOF\n')).toBe(true);
    const plain = await request(app).get('/metrics');
    expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const filtered = await scrape(app, '/metrics?name[]=http_request_total&name[]=exporter_info');
    expect(new Set(parseExposition(filtered).map((s) => s.name))).toEqual(new Set(['http_request_total', 'exporter_info']));
    // supertest would inflate the body: read the raw bytes from a real socket.
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      httpRequest(
        { port: (server.address() as AddressInfo).port, host: '127.0.0.1', path: '/metrics', headers: { 'accept-encoding': 'gzip' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
        },
      )
        .on('error', reject)
        .end();
    });
    expect(raw.encoding).toBe('gzip');
    expect(gunzipSync(raw.body).toString()).toContain('http_request_total');
    const head = await request(app).head('/metrics');
    expect(head.status).toBe(200);
    expect((await request(app).post('/metrics')).status).toBe(405);
  });

  it('authorize: 401 without metrics, 200 with', async () => {
    const { app } = build({ authorize: (req) => req.headers.authorization === 'Bearer s3cret' });
    const denied = await request(app).get('/metrics');
    expect(denied.status).toBe(401);
    expect(denied.text).not.toContain('http_request');
    const ok = await request(app).get('/metrics').set('authorization', 'Bearer s3cret');
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('exporter_info');
  });

  it('path: null serves nothing on the app; registerEndpoint and startHttpServer serve', async () => {
    const { app, m } = build({ path: null });
    expect((await request(app).get('/metrics')).status).toBe(404);
    m.registerEndpoint('/internal/metrics');
    const other = express();
    m.registerEndpoint('/m', other);
    await request(app).get('/users/1');
    expect(sampleValue((await request(app).get('/internal/metrics')).text, 'http_request_total', { path: '/users/:id' })).toBe(1);
    expect(sampleValue((await request(other).get('/m')).text, 'http_request_total', { path: '/users/:id' })).toBe(1);
    expect(sampleValue(await scrape(app, '/internal/metrics'), 'http_request_total', { path: '/internal/metrics' })).toBeUndefined();
    const server = await m.startHttpServer(0, { host: '127.0.0.1' });
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('http_request_total');
    await expect(m.startHttpServer(port, { host: '127.0.0.1' })).rejects.toThrow(/already in use/);
  });

  it('records a client that went away first as 499', async () => {
    let release: () => void = () => {};
    const { app } = build({}, (a) => {
      a.get('/slow', (_req, res) => {
        release = () => res.send('late');
      });
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    const req = httpRequest({ port, host: '127.0.0.1', path: '/slow' });
    req.on('error', () => {});
    req.end();
    await new Promise((r) => setTimeout(r, 100));
    expect(sampleValue(await scrape(app), 'http_requests_in_progress', { method: 'GET' })).toBe(1);
    req.destroy();
    await new Promise((r) => setTimeout(r, 100));
    release();
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_total', { path: '/slow', status: '499' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/slow', status: '200' })).toBeUndefined();
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('times a streamed response to its last byte', async () => {
    const { app } = build({ buckets: [0.1, 0.3, 1] }, (a) => {
      a.get('/stream', (_req, res) => {
        const stream = new Readable({ read() {} });
        stream.push('a');
        setTimeout(() => {
          stream.push('b');
          stream.push(null);
        }, 200);
        stream.pipe(res);
      });
    });
    expect((await request(app).get('/stream')).text).toBe('ab');
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_duration_seconds_bucket', { path: '/stream', le: '0.1' })).toBe(0);
    expect(sampleValue(text, 'http_request_duration_seconds_bucket', { path: '/stream', le: '1' })).toBe(1);
  });

  it('a malformed URL does not break the app', async () => {
    const { app } = build();
    const res = await request(app).get('/users/%E0%A4%A');
    expect(res.status).toBe(400);
    expect((await request(app).get('/users/1')).status).toBe(200);
    const text = await scrape(app);
    expect(sampleValue(text, 'http_request_total', { status: '400' })).toBe(1);
  });

  it('rejects bad options when created, naming them', () => {
    expect(() => metrics({ nope: 1 } as never)).toThrow(/"nope"/);
    expect(() => metrics({ buckets: [2, 1] })).toThrow(/"buckets"/);
    expect(() => metrics({ path: 'x' })).toThrow(/"path"/);
  });
});
