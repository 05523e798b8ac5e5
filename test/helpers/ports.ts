import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 right now, for a server the test does not start itself on port 0 (one whose
 * port must be known before it starts). Released before this resolves, so it is picked below the OS's
 * ephemeral range: ports there are what listen(0) and every outgoing connection of the suite's other tests get,
 * and one of them could take it before the server binds it. Never the same port twice in one test file.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.min(20_000, high - 2_000);
  for (let tries = 0; tries < 50; tries++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (given.has(port)) continue;
    if (await bindable(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${low} and ${high} on 127.0.0.1 in 50 tries`);
}

const given = new Set<number>();

/** The first port of the ephemeral range (Linux's setting; 32768, Linux's default and below IANA's 49152, elsewhere). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 4_000) return low;
  } catch {
    // not Linux
  }
  return 32_768;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
