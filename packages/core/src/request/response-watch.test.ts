import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import { connect, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openOn, skipOpen, type Watched, watchedOf } from './response-watch.js';

/** A watched request that notes how it ended. */
class Probe implements Watched {
  finished = false;
  ends: number[] = [];
  constructor(
    readonly raw: ServerResponse,
    readonly owner: unknown = 'owner',
  ) {}
  end(status: number): void {
    this.finished = true;
    this.ends.push(status);
  }
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A server whose handler watches every response, then lets `respond` answer it. */
async function serve(respond: (req: IncomingMessage, res: ServerResponse, probe: Probe) => void) {
  const probes: Probe[] = [];
  const server = createServer((req, res) => {
    const probe = new Probe(res);
    probes.push(probe);
    openOn(probe.raw as ServerResponse).push(probe);
    respond(req, res, probe);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { port, probes };
}

/** Sends raw bytes on one connection and collects what comes back until the server closes it. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      out += d;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('openOn', () => {
  it('ends each request of a keep-alive connection once, with its status, and keeps none of them', async () => {
    const lookups: Array<{ found: Watched | undefined; expected: Watched | undefined }> = [];
    const { port, probes } = await serve((req, res, probe) => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('x');
      // Open until the response has finished (Node finishes it after the last write), then forgotten.
      res.on('finish', () => lookups.push({ found: watchedOf(res, 'owner'), expected: undefined }));
      lookups.push({ found: watchedOf(res, 'owner'), expected: probe });
      lookups.push({ found: watchedOf(res, 'someone else'), expected: undefined });
    });
    const req = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
    await exchange(port, `${req('/a')}${req('/missing')}${req('/b')}GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await until(() => probes.length === 4 && probes.every((p) => p.finished));
    // Pipelined on one connection: each finished with its own status, exactly once.
    expect(probes.map((p) => p.ends)).toEqual([[200], [404], [200], [200]]);
    expect(lookups).toHaveLength(12);
    for (const { found, expected } of lookups) expect(found).toBe(expected);
  });

  it('ends a response the client left before it was complete with 499, when the connection closes', async () => {
    const { port, probes } = await serve((_req, res) => {
      res.write('partial');
    });
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => probes.length === 1);
    expect(probes[0]?.finished).toBe(false);
    socket.destroy();
    await until(() => probes[0]?.finished === true);
    expect(probes[0]?.ends).toEqual([499]);
  });

  it('a response no Node server publishes (a made-up one) ends on its own close', () => {
    const req = new IncomingMessage(new Socket());
    const res = new ServerResponse(req);
    const probe = new Probe(res);
    openOn(probe.raw as ServerResponse).push(probe);
    expect(watchedOf(res, 'owner')).toBe(probe);
    res.statusCode = 204;
    Object.defineProperty(res, 'writableEnded', { value: true });
    res.emit('close');
    expect(probe.ends).toEqual([204]);
    expect(watchedOf(res, 'owner')).toBeUndefined();
  });

  it('several owners of one request each end once', async () => {
    const others: Probe[] = [];
    const { port, probes } = await serve((_req, res) => {
      const other = new Probe(res, 'second');
      others.push(other);
      openOn(other.raw as ServerResponse).push(other);
      expect(watchedOf(res, 'second')).toBe(other);
      res.end('x');
    });
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.text();
    await until(() => probes[0]?.finished === true && others[0]?.finished === true);
    expect(probes[0]?.ends).toEqual([200]);
    expect(others[0]?.ends).toEqual([200]);
  });

  it('skipOpen tells every owner still open on the response, and no other response', () => {
    const skipped: string[] = [];
    const req = new IncomingMessage(new Socket());
    const res = new ServerResponse(req);
    const other = new ServerResponse(req);
    for (const [raw, owner] of [
      [res, 'first'],
      [res, 'second'],
      [other, 'other'],
    ] as const) {
      const probe = Object.assign(new Probe(raw, owner), { skip: () => skipped.push(owner) });
      openOn(raw).push(probe);
    }
    skipOpen(res);
    expect(skipped).toEqual(['first', 'second']);
  });
});
