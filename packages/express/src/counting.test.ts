import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import express4 from 'express4';
import { Gauge, Registry } from 'prom-client';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { samples, sampleValue } from '../../../test/helpers/exposition.js';
import { metrics } from './index.js';

type Express = typeof express5;
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** The sum of every sample named `name` (every series of a family). */
function total(text: string, name: string): number {
  return samples(text, name).reduce((sum, s) => sum + s.value, 0);
}

async function listen(app: ReturnType<Express>): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Collects the process's unhandled rejections while `run` runs, and a little after. */
async function unhandledRejections(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    await run();
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  return seen;
}

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as Express],
])('%s: counting', (_name, express) => {
  const options = (registry: Registry) => ({ registry, collectDefaultMetrics: false });
  const ok = (_req: unknown, res: express5.Response) => {
    res.send('ok');
  };

  it('two instances on one registry in one app (hot reload) record a request once', async () => {
    const registry = new Registry();
    const app = express();
    const first = metrics(options(registry));
    app.use(first);
    app.use(metrics(options(registry)));
    app.get('/x/:id', ok);
    await request(app).get('/x/1');
    await request(app).get('/x/2');
    const text = (await first.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_total', { path: '/x/:id', status: '200' })).toBe(2);
    expect(sampleValue(text, 'http_request_duration_seconds_count', { path: '/x/:id' })).toBe(2);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('an app and its router each mounting an instance on one registry record a request once, in the outer one', async () => {
    const registry = new Registry();
    const app = express();
    const outer = metrics(options(registry));
    const inner = metrics(options(registry));
    const router = express.Router();
    router.use(inner);
    // The inner instance's wrappers add to the outer instance's record.
    const reads = inner.counter('reads_total', 'Reads');
    router.get('/x/:id', reads(ok));
    app.use(outer);
    app.use('/r', router);
    await request(app).get('/r/x/1');
    await request(app).get('/r/x/2');
    const text = (await outer.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_total', { path: '/r/x/:id', status: '200' })).toBe(2);
    expect(total(text, 'http_request_total')).toBe(2);
    expect(sampleValue(text, 'reads_total')).toBe(2);
    expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
  });

  it('instances on two registries each record a request in their own registry', async () => {
    const one = metrics(options(new Registry()));
    const two = metrics({ ...options(new Registry()), groupBy: 'url' });
    const app = express();
    app.use(one);
    app.use(two);
    app.get('/x/:id', ok);
    await request(app).get('/x/1');
    expect(sampleValue((await one.generateMetrics()).body, 'http_request_total', { path: '/x/:id' })).toBe(1);
    expect(sampleValue((await two.generateMetrics()).body, 'http_request_total', { url: '/x/1' })).toBe(1);
  });

  it('an instance does not record the scrapes another instance answers, on its path or a registered endpoint', async () => {
    const outer = metrics({ ...options(new Registry()), path: '/outer-metrics' });
    const inner = metrics(options(new Registry()));
    const third = metrics({ ...options(new Registry()), path: null });
    const app = express();
    app.use(outer);
    app.use(inner);
    third.registerEndpoint('/third-metrics', app);
    app.get('/x', ok);
    expect((await request(app).get('/metrics')).status).toBe(200);
    expect((await request(app).get('/third-metrics')).status).toBe(200);
    expect((await request(app).get('/outer-metrics')).status).toBe(200);
    await request(app).get('/x');
    for (const m of [outer, inner]) {
      const text = (await m.generateMetrics()).body;
      // Only GET /x: no `<unmatched>` 200 for /metrics, no /third-metrics route.
      expect(samples(text, 'http_request_total').map((s) => [s.labels.path, s.labels.status, s.value])).toEqual([['/x', '200', 1]]);
      expect(sampleValue(text, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
    }
  });

  it("mounted under a path, it serves the endpoint under that path: app.use('/api', m) serves /api/metrics", async () => {
    const m = metrics(options(new Registry()));
    const app = express();
    app.use('/api', m);
    app.get('/api/x', ok);
    await request(app).get('/api/x');
    const scrape = await request(app).get('/api/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(sampleValue(scrape.text, 'http_request_total', { path: '/api/x', status: '200' })).toBe(1);
    expect((await request(app).get('/metrics')).status).toBe(404);
    expect((await request(app).get('/api/metrics?name[]=http_request_total')).status).toBe(200);
    const text = (await m.generateMetrics()).body;
    expect(samples(text, 'http_request_total').map((s) => [s.labels.path, s.labels.status, s.value])).toEqual([['/api/x', '200', 1]]);
  });

  it('in a sub-app mounted at /v1, it serves /v1/metrics', async () => {
    const m = metrics(options(new Registry()));
    const app = express();
    const v1 = express();
    v1.use(m);
    v1.get('/x', ok);
    app.use('/v1', v1);
    await request(app).get('/v1/x');
    const scrape = await request(app).get('/v1/metrics');
    expect(scrape.status).toBe(200);
    expect(sampleValue(scrape.text, 'http_request_total', { status: '200' })).toBe(1);
    expect((await request(app).get('/metrics')).status).toBe(404);
    const text = (await m.generateMetrics()).body;
    expect(total(text, 'http_request_total')).toBe(1);
  });

  it('a metric whose collect throws or rejects: the scrape answers 500, nothing is left rejected', async () => {
    const registry = new Registry();
    const app = express();
    app.use(metrics(options(registry)));
    let mode: 'throw' | 'reject' = 'throw';
    new Gauge({
      name: 'broken',
      help: 'A collect that fails',
      registers: [registry],
      collect() {
        if (mode === 'throw') throw new Error('collect threw');
        return Promise.reject(new Error('collect rejected'));
      },
    });
    const rejections = await unhandledRejections(async () => {
      const thrown = await request(app).get('/metrics');
      expect(thrown.status).toBe(500);
      expect(thrown.text).toContain('collect threw');
      mode = 'reject';
      const rejected = await request(app).get('/metrics');
      expect(rejected.status).toBe(500);
      expect(rejected.text).toContain('collect rejected');
    });
    expect(rejections).toEqual([]);
  });

  it('a scrape answered by something else while it renders (a timeout) leaves nothing rejected', async () => {
    const registry = new Registry();
    const app = express();
    app.use(function timeout(_req, res, next) {
      setTimeout(() => {
        if (!res.headersSent) res.status(503).send('timeout');
      }, 20);
      next();
    });
    app.use(metrics(options(registry)));
    app.get('/x', ok);
    new Gauge({
      name: 'slow',
      help: 'A slow collect',
      registers: [registry],
      async collect() {
        await new Promise((r) => setTimeout(r, 100));
        this.set(1);
      },
    });
    const base = await listen(app);
    const rejections = await unhandledRejections(async () => {
      const answer = await fetch(`${base}/metrics`);
      expect(answer.status).toBe(503);
      expect(await answer.text()).toBe('timeout');
      await new Promise((r) => setTimeout(r, 150));
      expect((await fetch(`${base}/x`)).status).toBe(200);
    });
    expect(rejections).toEqual([]);
  });

  it("an error a sub-app passes to the parent's error handler counts as an exception with the status sent", async () => {
    for (const inSubApp of [false, true]) {
      const m = metrics(options(new Registry()));
      const app = express();
      const v1 = express();
      if (inSubApp) v1.use(m);
      else app.use(m);
      v1.get('/err/:id', () => {
        throw new Error('sub-app failed');
      });
      app.use('/v1', v1);
      app.use((_err: unknown, _req: unknown, res: express5.Response, _next: unknown) => {
        res.status(503).send('unavailable');
      });
      expect((await request(app).get('/v1/err/1')).status).toBe(503);
      const text = (await m.generateMetrics()).body;
      // The route label is route-template.ts's: only the counts and the status are checked here.
      expect(samples(text, 'http_request_exceptions_total').map((s) => [s.labels.status, s.value])).toEqual([['503', 1]]);
      expect(samples(text, 'http_request_total').map((s) => [s.labels.status, s.value])).toEqual([['503', 1]]);
    }
  });

  it('an error no handler takes, thrown by a route added after the first request, counts as an exception', async () => {
    const m = metrics(options(new Registry()));
    const app = express();
    app.use(m);
    app.get('/x', ok);
    await request(app).get('/x');
    app.get('/late', () => {
      throw new Error('late');
    });
    app.get('/late-next', (_req, _res, next) => {
      next(new Error('late next'));
    });
    expect((await request(app).get('/late')).status).toBe(500);
    expect((await request(app).get('/late-next')).status).toBe(500);
    const text = (await m.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/late', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/late-next', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_total', { path: '/x', status: '200' })).toBe(1);
  });
});

describe('Express 5 (router >= 2.3): errors from the express.router.request channel', () => {
  it('needs no layer of its own: an error that ends in the final handler is seen, the stack is left alone', async () => {
    const m = metrics({ registry: new Registry(), collectDefaultMetrics: false });
    const app = express5();
    app.use(m);
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/async-boom', async () => {
      throw new Error('async boom');
    });
    const router = (app as unknown as { router: { stack: Array<{ handle: unknown; name: string }> } }).router;
    const before = router.stack.map((l) => l.handle);
    expect((await request(app).get('/boom')).status).toBe(500);
    expect((await request(app).get('/async-boom')).status).toBe(500);
    expect(router.stack.map((l) => l.handle)).toEqual(before);
    const text = (await m.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/boom', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/async-boom', status: '500' })).toBe(1);
  });
});
