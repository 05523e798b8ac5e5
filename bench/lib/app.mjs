// What every benchmark app shares, so the variants differ only in their metrics library.
import { subscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

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

/**
 * One of prom-http's packages (`express`, `fastify`): the bench's own (the workspace build) or, when the harness
 * sets PROMHTTP_DIR (a `--baseline DIR` row), the build of another checkout of prom-http, with that checkout's own
 * dependencies. The same app file then measures two versions of prom-http side by side.
 */
export function importPromHttp(pkg) {
  const dir = process.env.PROMHTTP_DIR;
  return dir ? import(pathToFileURL(join(dir, 'packages', pkg, 'dist', 'index.js')).href) : import(`@prom-http/${pkg}`);
}

/** The trace and span ids of a W3C `traceparent` header (`00-<trace>-<span>-<flags>`), or undefined without one. */
export function traceparentExemplar(req) {
  const header = req.headers.traceparent;
  if (typeof header !== 'string' || header.length !== 55) return undefined;
  return { trace_id: header.slice(3, 35), span_id: header.slice(36, 52) };
}
