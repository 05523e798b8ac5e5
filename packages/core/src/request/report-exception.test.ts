import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../../test/helpers/client.js';
import { sampleValue } from '../../../../test/helpers/exposition.js';
import { PromHttp, type RouteReader } from '../engine.js';
import { recordException } from './report-exception.js';

type Req = IncomingMessage;
type Res = ServerResponse;

const routes: RouteReader<Req, Res> = { template: () => '/users/:id', endpoint: () => 'users', url: (req) => req.url ?? '' };

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/**
 * A server whose every request is recorded by one engine per registry (as an adapter would start them) and then
 * answered by `respond`, the way a framework layer that catches the error itself answers it.
 */
async function serve(registries: Registry[], respond: (res: ServerResponse) => void): Promise<string> {
  const engines = registries.map((registry) => new PromHttp<Req, Res>({ registry, collectDefaultMetrics: false }, routes));
  const server = createServer((req, res) => {
    for (const e of engines) e.track(req, res, res, req.method ?? 'GET', undefined, req.socket);
    respond(res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/users/7`;
}

function answer(res: ServerResponse, status: number): void {
  res.statusCode = status;
  res.end();
}

const labels = (status: string) => ({ method: 'GET', path: '/users/:id', status });

describe('recordException', () => {
  it('counts an error that the app caught and answered itself as the exception of that request', async () => {
    const registry = new Registry();
    const url = await serve([registry], (res) => {
      recordException(res, new Error('boom'));
      answer(res, 500);
    });
    await fetch(url);
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_exceptions_total', labels('500'))).toBe(1);
    expect(sampleValue(text, 'http_request_total', labels('500'))).toBe(1);
  });

  it('leaves an error with a 4xx status (status or statusCode) uncounted as an exception', async () => {
    const registry = new Registry();
    let n = 0;
    const url = await serve([registry], (res) => {
      recordException(res, n++ === 0 ? Object.assign(new Error('not found'), { status: 404 }) : { statusCode: 403 });
      answer(res, n === 1 ? 404 : 403);
    });
    await fetch(url);
    await fetch(url);
    const text = await registry.metrics();
    expect(sampleValue(text, 'http_request_total', labels('404'))).toBe(1);
    expect(sampleValue(text, 'http_request_total', labels('403'))).toBe(1);
    expect(sampleValue(text, 'http_request_exceptions_total', labels('404'))).toBeUndefined();
    expect(sampleValue(text, 'http_request_exceptions_total', labels('403'))).toBeUndefined();
  });

  it("takes Fastify's reply (an object whose raw is the Node response)", async () => {
    const registry = new Registry();
    const url = await serve([registry], (res) => {
      recordException({ raw: res }, new Error('boom'));
      answer(res, 500);
    });
    await fetch(url);
    expect(sampleValue(await registry.metrics(), 'http_request_exceptions_total', labels('500'))).toBe(1);
  });

  it('tells every instance recording the request, and keeps its first error', async () => {
    const registries = [new Registry(), new Registry()];
    const url = await serve(registries, (res) => {
      recordException(res, Object.assign(new Error('bad request'), { statusCode: 400 }));
      recordException(res, new Error('later'));
      answer(res, 400);
    });
    await fetch(url);
    const url2 = await serve(registries, (res) => {
      recordException(res, new Error('boom'));
      answer(res, 502);
    });
    await fetch(url2);
    for (const registry of registries) {
      const text = await registry.metrics();
      expect(sampleValue(text, 'http_request_exceptions_total', labels('400'))).toBeUndefined();
      expect(sampleValue(text, 'http_request_exceptions_total', labels('502'))).toBe(1);
    }
  });

  it('never throws, whatever it is given, and changes nothing for a response no instance records', async () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no reads');
        },
        has() {
          throw new Error('no reads');
        },
      },
    );
    const registry = new Registry();
    const url = await serve([registry], (res) => {
      for (const response of [null, undefined, 42, 'res', {}, { raw: null }, { raw: 1 }, hostile, { raw: hostile }])
        expect(() => recordException(response as unknown as ServerResponse, new Error('x'))).not.toThrow();
      answer(res, 200);
    });
    await fetch(url);
    expect(sampleValue(await registry.metrics(), 'http_request_total', labels('200'))).toBe(1);

    // A response finished before the call, and one of a server no instance watches.
    const other = createServer((_req, res) => {
      answer(res, 500);
      expect(() => recordException(res, new Error('after the end'))).not.toThrow();
    });
    servers.push(other);
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    await fetch(`http://127.0.0.1:${(other.address() as { port: number }).port}/`);
    expect(sampleValue(await registry.metrics(), 'http_request_exceptions_total', labels('500'))).toBeUndefined();
  });
});
