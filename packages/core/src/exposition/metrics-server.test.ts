import { Agent, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from './metrics-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

/** A GET on `agent`'s one keep-alive connection: the status and the Connection header of the answer. */
function scrapeOn(agent: Agent, port: number, path = '/metrics'): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    }).on('error', reject);
  });
}

describe('startHttpServer', () => {
  it('close() calls back while a scraper keeps its keep-alive connection busy', async () => {
    const server = await startHttpServer(0, { host: '127.0.0.1' }, async (_req, request) => {
      await sleep(request.url?.includes('slow') ? 300 : 0);
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'up 1\n' };
    });
    servers.push(server);
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await scrapeOn(agent, port)).toEqual({ status: 200, connection: 'keep-alive' });

    // A scrape in flight when close() is called, then one scrape every 100 ms on the same connection, as a
    // scraper with a short interval does: Node alone would serve them all on that connection and never call back.
    const inFlight = scrapeOn(agent, port, '/metrics?slow');
    await sleep(50);
    let closed = false;
    server.close(() => {
      closed = true;
    });
    expect(await inFlight).toEqual({ status: 200, connection: 'close' });
    const after: string[] = [];
    for (let i = 0; i < 20 && !closed; i++) {
      await sleep(100);
      after.push(
        await scrapeOn(agent, port).then(
          (r) => `${r.status} ${r.connection}`,
          (error: NodeJS.ErrnoException) => error.code ?? String(error),
        ),
      );
    }
    agent.destroy();
    expect(closed, `still open after ${after.length} scrapes: ${after.join(', ')}`).toBe(true);
  });
});
