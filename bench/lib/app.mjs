// What every benchmark app shares, so the variants differ only in their metrics library.
import { subscribe } from 'node:diagnostics_channel';

export const HOST = '127.0.0.1';
export const port = Number(process.env.PORT ?? 0);

export function user(id) {
  return { id, name: `user ${id}` };
}

export function heap() {
  // Forced GC (apps run with --expose-gc) so that "heap" means what is retained, not garbage not yet collected.
  global.gc?.();
  return process.memoryUsage();
}

// The parent reads this one line to learn the ephemeral port.
export function announce(server) {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
}

export function listenExpress(app) {
  const server = app.listen(port, HOST, (err) => {
    if (err) throw err;
    announce(server);
  });
  return server;
}

export async function listenFastify(app) {
  await app.listen({ port, host: HOST });
  announce(app.server);
}

/**
 * For the floor apps (lib/floor-*.mjs): one subscriber on Node's `http.server.response.finish` channel counts
 * the finished responses (where prom-http's finish is called); the returned function shows the count, so the
 * harness sees the load was recorded.
 */
export function finishCounter() {
  let finished = 0;
  subscribe('http.server.response.finish', function countFinished() {
    finished++;
  });
  return () => `floor_finished_total{route="/users/:id"} ${finished}\n`;
}
