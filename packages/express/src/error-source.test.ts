import * as dc from 'node:diagnostics_channel';
import { resetWarnings } from '@prom-http/core/internal';
import express5 from 'express';
import express4 from 'express4';
import { Registry } from 'prom-client';
import request from 'supertest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { samples, sampleValue } from '../../../test/helpers/exposition.js';
import { metrics } from './index.js';

/*
 * The hook points for errors where router >= 2.3's channel is missing. Once subscribed, the channel stays
 * subscribed for the process, so no test in this file may use it: every Express 5 app here hides `listRoutes`,
 * the feature that tells router >= 2.3.
 */

type Express = typeof express5;
type App = ReturnType<Express>;
const CODE = 'PROMHTTP_EXPRESS_ERRORS_UNSEEN';
const undo: Array<() => void> = [];
afterEach(() => {
  for (const u of undo.splice(0).reverse()) u();
});

/** Sets `key` of `target` to `value` (deletes it when undefined) until the test ends. */
function replace(target: object, key: string, value: unknown): void {
  const had = Object.hasOwn(target, key);
  const old = (target as Record<string, unknown>)[key];
  if (value === undefined) delete (target as Record<string, unknown>)[key];
  else (target as Record<string, unknown>)[key] = value;
  undo.push(() => {
    if (had) (target as Record<string, unknown>)[key] = old;
    else delete (target as Record<string, unknown>)[key];
  });
}

function rootRouter(app: App): { stack: Array<{ handle: unknown; name: string }> } {
  const a = app as unknown as { _router?: unknown; router?: unknown };
  return ('_router' in a ? a._router : a.router) as { stack: Array<{ handle: unknown; name: string }> };
}

/** The object of `target`'s prototype chain that holds `key`. */
function holderOf(target: object, key: string): object {
  let holder: object | null = target;
  while (holder !== null && !Object.hasOwn(holder, key)) holder = Object.getPrototypeOf(holder) as object | null;
  if (holder === null) throw new Error(`no ${key}`);
  return holder;
}

/** An app as a router < 2.3 makes it: no `listRoutes` (Express 4 has none anyway). */
function olderRouter(express: Express): App {
  const app = express();
  if (express === express5) replace(holderOf(rootRouter(app), 'listRoutes'), 'listRoutes', undefined);
  return app;
}

function build(express: Express) {
  const m = metrics({ registry: new Registry(), collectDefaultMetrics: false });
  const app = olderRouter(express);
  app.use(m);
  app.get('/ok', (_req, res) => {
    res.send('ok');
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  return { app, m };
}

/** The coded warnings logged while `run` runs. */
async function warnings(run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (w: Error & { code?: string }) => {
    if (w.name === 'PromHttpWarning' && w.code !== undefined) seen.push(w.code);
  };
  process.on('warning', onWarning);
  try {
    await run();
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  return seen;
}

beforeAll(() => {
  expect(dc.hasSubscribers('tracing:express.router.request:error')).toBe(false);
});

describe('no hook point for errors', () => {
  it('keeps counting every request, none as an exception, and warns once with a code', async () => {
    resetWarnings(CODE);
    const apps = [express5, express4 as unknown as Express].map((express) => ({ express, ...build(express) }));
    const seen = await warnings(async () => {
      for (const { express, app } of apps) {
        // The layer error dispatch is gone while the middleware looks for it (the first request).
        const method = express === express5 ? 'handleError' : 'handle_error';
        const layerProto = holderOf(rootRouter(app).stack[0] as object, method);
        const original = (layerProto as Record<string, unknown>)[method];
        delete (layerProto as Record<string, unknown>)[method];
        try {
          expect((await request(app).get('/ok')).status).toBe(200);
        } finally {
          (layerProto as Record<string, unknown>)[method] = original;
        }
        expect((await request(app).get('/boom')).status).toBe(500);
        expect((await request(app).get('/ok')).status).toBe(200);
      }
    });
    expect(seen).toEqual([CODE]);
    for (const { app, m } of apps) {
      const text = (await m.generateMetrics()).body;
      expect(sampleValue(text, 'http_request_total', { path: '/ok', status: '200' })).toBe(2);
      expect(sampleValue(text, 'http_request_total', { path: '/boom', status: '500' })).toBe(1);
      expect(samples(text, 'http_request_exceptions_total')).toEqual([]);
      // Nothing was added to the app.
      expect(rootRouter(app).stack.some((l) => l.name === 'promHttpErrorTap')).toBe(false);
    }
  });
});

describe.each([
  ['Express 5 with router < 2.3', express5],
  ['Express 4', express4 as unknown as Express],
])('%s: errors through the layer error dispatch', (_name, express) => {
  it('counts errors, also those that end in the final handler, and keeps one pass-through handler last', async () => {
    resetWarnings(CODE);
    const { app, m } = build(express);
    const seen = await warnings(async () => {
      expect((await request(app).get('/ok')).status).toBe(200);
      expect((await request(app).get('/boom')).status).toBe(500);
    });
    expect(seen).toEqual([]);
    const taps = () => rootRouter(app).stack.filter((l) => l.name === 'promHttpErrorTap');
    const stack = rootRouter(app).stack;
    expect(taps()).toHaveLength(1);
    expect(stack[stack.length - 1]?.name).toBe('promHttpErrorTap');
    // A route added later: a second pass-through handler after it; the first one is not moved.
    const first = taps()[0];
    const at = stack.indexOf(first as (typeof stack)[number]);
    app.get('/late', (_req, _res, next) => {
      next(new Error('late'));
    });
    expect((await request(app).get('/late')).status).toBe(500);
    expect((await request(app).get('/late')).status).toBe(500);
    expect(stack[at]).toBe(first);
    expect(taps()).toHaveLength(2);
    expect(stack[stack.length - 1]?.name).toBe('promHttpErrorTap');
    const text = (await m.generateMetrics()).body;
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/boom', status: '500' })).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', { path: '/late', status: '500' })).toBe(2);
    expect(sampleValue(text, 'http_request_total', { path: '/ok', status: '200' })).toBe(1);
    expect(dc.hasSubscribers('tracing:express.router.request:error')).toBe(false);
  });
});
