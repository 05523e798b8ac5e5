import { subscribe } from 'node:diagnostics_channel';
import { Server as HttpServer, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

/*
 * How a request is finished once its response is done, at the least cost per request.
 *
 * Responses of Node's HTTP/1 servers (`http` and `https`): Node publishes every finished response on the
 * `http.server.response.finish` diagnostics channel, so one subscriber for the whole process finishes the
 * requests of that response, found in a list kept on the connection's socket. A response the client left
 * before it was complete never finishes: the socket's 'close' (one listener per connection, not per request)
 * finishes what is still open on it. Nothing (no listener, closure or new property) is added per request:
 * a 'close' listener on each Express response cost about 1% of the request (measured with --cpu-prof).
 *
 * Any other response (HTTP/2 compatibility, a response made up by a test harness or a serverless shim, which
 * no Node server publishes): one 'close' listener on the response.
 */

/** What the watcher needs of a request being recorded. */
export interface Watched {
  readonly raw: ServerResponse | null;
  /** Who recorded it: one request may be recorded by several instances. */
  readonly owner: unknown;
  readonly finished: boolean;
  /** Finishes the request with this status; called once. */
  end(status: number): void;
  /** The request met `error` (thrown, rejected or passed on); the first one counts. */
  fail?(error: unknown): void;
  /** The request is a scrape of a prom-http endpoint: nothing is recorded for it. */
  skip?(): void;
}

/**
 * The requests still open: on a socket of Node's server (null once it closed), else on the response itself.
 * A keep-alive connection holds at most the requests in flight on it (one, unless pipelined). The key is
 * global, so two copies of this package in one process share the lists (each record ends itself).
 */
const kOpen = Symbol.for('prom-http.open');
type WithOpen = { [kOpen]?: Watched[] | null };
type WatchedSocket = Socket & WithOpen;

/** 499: the client closed the connection before the response was complete (nginx's convention). */
function closeStatus(raw: ServerResponse): number {
  return raw.writableEnded ? raw.statusCode : 499;
}

/** Finishes the open requests of `raw` (all open ones when `raw` is null) and forgets every finished one. */
function endOpen(open: Watched[], raw: ServerResponse | null, status: number): void {
  let kept = 0;
  for (let i = 0; i < open.length; i++) {
    const watched = open[i] as Watched;
    if (!watched.finished && (raw === null || watched.raw === raw))
      watched.end(raw === null ? closeStatus(watched.raw as ServerResponse) : status);
    if (!watched.finished) open[kept++] = watched;
  }
  open.length = kept;
}

const serverResponse = ServerResponse.prototype;

/**
 * The status a finished response sent. A response of Node's own class (Fastify's, Node's) is read as usual, so
 * that read stays on V8's fast path. Express gives every response its app's prototype and then adds properties,
 * so no two of its responses share an object shape: a plain read misses V8's property caches on every response
 * and takes its slow path (370-520 ns), which `Reflect.get` avoids (50-100 ns; `bench/express-shapes.mjs`).
 */
function statusOf(response: ServerResponse): number {
  return Object.getPrototypeOf(response) === serverResponse ? response.statusCode : (Reflect.get(response, 'statusCode') as number);
}

function onResponseFinish(message: unknown): void {
  const open = (message as { socket: WatchedSocket | null }).socket?.[kOpen];
  if (open === undefined || open === null || open.length === 0) return;
  const response = (message as { response: ServerResponse }).response;
  if (open.length === 1) {
    // The usual case: the one request in flight on the connection is this response's.
    const only = open[0] as Watched;
    if (only.raw === response && !only.finished) only.end(statusOf(response));
    if (only.finished) open.pop();
    return;
  }
  endOpen(open, response, statusOf(response));
}

function onSocketClose(this: WatchedSocket): void {
  const open = this[kOpen];
  this[kOpen] = null;
  if (open !== undefined && open !== null) endOpen(open, null, 0);
}

function onResponseClose(this: ServerResponse & WithOpen): void {
  const open = this[kOpen];
  if (open !== undefined && open !== null) endOpen(open, null, 0);
}

let subscribed = false;

/** Whether Node's HTTP/1 server (which publishes finished responses) accepted this connection. */
function isServerSocket(socket: Socket | null | undefined): socket is Socket {
  const server = (socket as { server?: unknown } | null | undefined)?.server;
  return server instanceof HttpServer || server instanceof HttpsServer;
}

/** The request's socket: a response waiting behind a pipelined one has none of its own yet. */
function socketOf(raw: ServerResponse): WatchedSocket | null {
  return (raw.req?.socket ?? raw.socket) as WatchedSocket | null;
}

/**
 * The list of requests open on `raw`'s connection (or on `raw` itself, see above), made and watched on first
 * use. Every request in it is ended once its response is done: `end(status)` with the status as sent, or 499
 * when the client left first; add a request by pushing it. `socket` is the request's socket, when the caller
 * has it at hand: Express gives every response its own prototype chain, so reading `raw.req` there misses
 * V8's property caches on every request.
 */
export function openOn(raw: ServerResponse, socket: WatchedSocket | null = socketOf(raw)): Watched[] {
  const open = socket?.[kOpen];
  if (open !== undefined && open !== null) return open;
  return newOpen(raw, socket, open);
}

/** `openOn` for a connection (or response) that has no list yet, or whose socket has closed (`open` null). */
function newOpen(raw: ServerResponse, socket: WatchedSocket | null, found: Watched[] | null | undefined): Watched[] {
  let open: Watched[] | null | undefined;
  if (found === undefined && isServerSocket(socket) && !socket.destroyed) {
    if (!subscribed) {
      subscribed = true;
      subscribe('http.server.response.finish', onResponseFinish);
    }
    open = [];
    (socket as WatchedSocket)[kOpen] = open;
    socket.once('close', onSocketClose);
    return open;
  }
  // Not a connection of Node's HTTP/1 server, or one already closed: the response's own 'close'.
  const response = raw as ServerResponse & WithOpen;
  open = response[kOpen];
  if (open === undefined || open === null) {
    open = [];
    response[kOpen] = open;
    response.once('close', onResponseClose);
  }
  return open;
}

/** The open requests on `raw`'s connection, without making the list (undefined when there is none). */
function existingOpen(raw: ServerResponse): Watched[] | null | undefined {
  return socketOf(raw)?.[kOpen] ?? (raw as ServerResponse & WithOpen)[kOpen];
}

/** The request of `raw` that `owner` is recording and has not finished, if any. */
export function watchedOf(raw: ServerResponse, owner: unknown): Watched | undefined {
  const open = existingOpen(raw);
  if (open === undefined || open === null) return undefined;
  for (let i = 0; i < open.length; i++) {
    const watched = open[i] as Watched;
    if (watched.raw === raw && watched.owner === owner) return watched;
  }
  return undefined;
}

/** Tells every request open on `raw`, whoever records it, that it met `error` (the first one is kept). */
export function failOpen(raw: ServerResponse, error: unknown): void {
  const open = existingOpen(raw);
  if (open === undefined || open === null) return;
  for (let i = 0; i < open.length; i++) {
    const watched = open[i] as Watched;
    if (watched.raw === raw && !watched.finished) watched.fail?.(error);
  }
}

/**
 * Tells every request open on `raw`, whoever records it, that it is a scrape of a prom-http endpoint: the
 * endpoint of any instance is never recorded, also by an instance the scrape passed before it was answered.
 */
export function skipOpen(raw: ServerResponse): void {
  const open = existingOpen(raw);
  if (open === undefined || open === null) return;
  for (let i = 0; i < open.length; i++) {
    const watched = open[i] as Watched;
    if (watched.raw === raw && !watched.finished) watched.skip?.();
  }
}
