import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HttpServerOptions } from '../types.js';
import type { ScrapeRequest, ScrapeResponse } from './exposition.js';

/**
 * A server of its own that answers `endpoint` with `scrape` and 404 elsewhere. Resolves once listening;
 * rejects with a clear error when the port is taken.
 */
export function startHttpServer(
  port: number,
  { host = '0.0.0.0', endpoint = '/metrics' }: HttpServerOptions,
  scrape: (req: IncomingMessage, request: ScrapeRequest) => Promise<ScrapeResponse>,
): Promise<Server> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new TypeError(`prom-http: startHttpServer port must be an integer from 0 to 65535, got ${port}`));
  }
  if (typeof endpoint !== 'string' || !endpoint.startsWith('/')) {
    return Promise.reject(new TypeError(`prom-http: startHttpServer option "endpoint" must start with "/", got ${endpoint}`));
  }
  const server = createServer(function metricsServer(req, res) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path !== endpoint) {
      answer(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not Found\n');
      return;
    }
    scrape(req, {
      method: req.method,
      url,
      accept: req.headers.accept,
      acceptEncoding: req.headers['accept-encoding'] as string | undefined,
    }).then(
      (scraped) => answer(res, scraped.status, scraped.headers, scraped.body),
      () => answer(res, 500, {}, ''),
    );
  });
  // server.close() closes the idle connections only: a scraper's keep-alive connection that is busy at that
  // moment would be kept open by its next scrape, and the next, and close() would never call back. Once the
  // server is closing, each answer closes its connection.
  const answer = (res: ServerResponse, status: number, headers: ScrapeResponse['headers'], body: ScrapeResponse['body']) => {
    if (!server.listening) res.setHeader('connection', 'close');
    res.writeHead(status, headers).end(body);
  };
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`prom-http: cannot start the metrics server: port ${port} on ${host} is already in use`, { cause: error })
          : error,
      );
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve(server);
    });
  });
}
