import type { IncomingMessage, ServerOptions as NodeServerOptions } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { GafferConfig } from '../config/schema.ts';
import { GafferError } from '../errors.ts';
import { writeRawError } from './error-handler.ts';

/** The HTTP server's bounds (`server.*`, see the config schema). */
export type ServerLimits = Pick<
  GafferConfig['server'],
  | 'headersTimeoutMs'
  | 'requestTimeoutMs'
  | 'uploadIdleTimeoutMs'
  | 'uploadTimeoutMs'
  | 'keepAliveTimeoutMs'
  | 'maxConnections'
>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A long upload: bounded by `server.uploadIdleTimeoutMs`, not `requestTimeoutMs`. */
    upload?: boolean;
  }
}

/**
 * Node's own bounds on an HTTP server. Node bounds the headers and a whole request (an upload's
 * bound: the longest any may take); the shorter bound on other bodies is `bodyTimeouts`'. A
 * request over Node's bounds reaches `handleClientError` (408). Given to Node when the server is
 * made (the checking interval is read only then): by Fastify (`serverOptions`), or by whoever
 * makes the server it is handed (`src/library/ports.ts`).
 */
export function httpServerOptions(limits: ServerLimits): NodeServerOptions {
  return {
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: Math.max(limits.uploadTimeoutMs, limits.headersTimeoutMs),
    headersTimeout: limits.headersTimeoutMs,
    // How often Node checks the two bounds (its default: 30 s): a fraction of the shorter.
    connectionsCheckingInterval: Math.min(1000, Math.max(10, limits.headersTimeoutMs / 4)),
  };
}

/** The same bounds as Fastify's options, for the server Fastify makes itself. */
export function serverOptions(limits: ServerLimits) {
  const { keepAliveTimeout, requestTimeout, ...http } = httpServerOptions(limits);
  return { keepAliveTimeout, requestTimeout, http };
}

/** Caps the open connections: past `maxConnections`, Node closes a new one as it is accepted. */
export function limitConnections(app: FastifyInstance, limits: ServerLimits): void {
  app.server.maxConnections = limits.maxConnections;
}

/**
 * Bounds how long a request's body may take to arrive once its headers have: `requestTimeoutMs`
 * in all, or for uploads (`config.upload`) `uploadIdleTimeoutMs` without a byte. Past it the
 * client is answered 408 GAFFER_REQUEST_TIMEOUT (if nothing was answered yet) and its connection
 * closed. Hand-written: Node's `requestTimeout` is one bound for every request of a server, and
 * an upload of 512 MiB needs another than a login. Registered before any other hook, so a request
 * refused early (a 401) is bounded too.
 */
export function bodyTimeouts(app: FastifyInstance, limits: ServerLimits): void {
  app.addHook('onRequest', (req, _reply, done) => {
    if (expectsBody(req.raw)) {
      if (req.routeOptions.config?.upload) watchIdle(req.raw, limits.uploadIdleTimeoutMs);
      else watchTotal(req.raw, limits.requestTimeoutMs);
    }
    done();
  });
}

/** True when the request announced a body (a length above 0, or chunks). */
export function expectsBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function watchTotal(req: IncomingMessage, ms: number): void {
  const timer = setTimeout(() => timedOut(req), ms);
  timer.unref();
  // Not on the socket's close: a keep-alive socket would gather a listener per request. A timer
  // left by a request whose connection closed finds the socket destroyed and does nothing.
  req.once('end', () => clearTimeout(timer));
}

/**
 * Cuts the request when no byte arrives for `ms` while gaffer waits for one: bytes waiting unread
 * in the request's buffer mean gaffer is the slow side (a store commit), so they reset the clock.
 */
function watchIdle(req: IncomingMessage, ms: number): void {
  const socket = req.socket;
  let seen = socket.bytesRead;
  const check = () => {
    if (arrived(req)) return;
    const progressed = socket.bytesRead !== seen || req.readableLength > 0;
    seen = socket.bytesRead;
    if (progressed) timer = setTimeout(check, ms).unref();
    else timedOut(req);
  };
  let timer = setTimeout(check, ms).unref();
  req.once('end', () => clearTimeout(timer));
}

/** The whole body is in (or the connection is gone): nothing is left to time out. */
function arrived(req: IncomingMessage): boolean {
  return req.complete || req.readableEnded || req.socket.destroyed;
}

function timedOut(req: IncomingMessage): void {
  if (arrived(req)) return;
  writeRawError(
    req.socket,
    new GafferError('GAFFER_REQUEST_TIMEOUT', 'the body did not arrive in time'),
  );
}
