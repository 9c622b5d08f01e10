import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GafferError, type ErrorCode } from '../errors.ts';
import { expectsBody } from './timeouts.ts';

/** Maps Fastify's own errors onto the catalogue, so every answer carries a stable code. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'GAFFER_BAD_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'GAFFER_BAD_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'GAFFER_BODY_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'GAFFER_BODY_TOO_LARGE',
  FST_FILES_LIMIT: 'GAFFER_BAD_REQUEST',
  FST_PARTS_LIMIT: 'GAFFER_BAD_REQUEST',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'GAFFER_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'GAFFER_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'GAFFER_BAD_REQUEST',
};

export function toGafferError(err: unknown): GafferError {
  if (err instanceof GafferError) return err;
  const e = err as FastifyError;
  const mapped = e?.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return new GafferError(mapped, e.message, { cause: err });
  if (e instanceof SyntaxError || (e?.statusCode === 400 && /JSON/i.test(e.message))) {
    return new GafferError('GAFFER_BAD_JSON', e.message, { cause: err });
  }
  if (e?.validation) return new GafferError('GAFFER_BAD_REQUEST', e.message, { cause: err });
  return new GafferError('GAFFER_INTERNAL', undefined, { cause: err });
}

export function handleError(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  if (clientGone(req)) {
    // The client closed the connection (or it was cut, see timeouts.ts) before its request was
    // read: nobody is left to answer, and it is not gaffer's fault.
    req.log.info(
      { code: (err as { code?: unknown })?.code },
      'the client went before its request arrived',
    );
    return;
  }
  const g = toGafferError(err);
  if (g.code === 'GAFFER_INTERNAL') req.log.error({ err }, 'internal error');
  if (g.code === 'GAFFER_UNAVAILABLE' || g.code === 'GAFFER_STORE_FULL') {
    void reply.header('retry-after', '1');
  }
  // A body over the limit, or one not read because the request was refused before it (a 401), is
  // answered before it arrived; without this Node would keep the connection and read (and
  // discard) the rest of it, however large or slow.
  if (g.status === 413 || (expectsBody(req.raw) && !req.raw.complete)) {
    void reply.header('connection', 'close');
  }
  void reply.status(g.status).send(errorBody(g));
}

/** True when the request's connection is gone before its body arrived whole. */
function clientGone(req: FastifyRequest): boolean {
  return req.raw.socket?.destroyed === true && !req.raw.complete;
}

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (bytes after a lying
 * Content-Length, a broken chunk, oversized headers, a request not received in time) with a
 * catalogue body, like every other answer, then closes the connection.
 */
export function handleClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const g =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new GafferError('GAFFER_REQUEST_TIMEOUT')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new GafferError('GAFFER_HEADERS_TOO_LARGE')
        : new GafferError('GAFFER_BAD_REQUEST', `malformed HTTP request (${err.code ?? 'error'})`);
  writeRawError(socket, g);
}

/**
 * Writes `g` as a whole HTTP answer straight to the socket, unless an answer to its request has
 * begun, then closes the connection.
 */
export function writeRawError(socket: Duplex, g: GafferError): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(errorBody(g));
    socket.write(
      `HTTP/1.1 ${g.status} ${STATUS_CODES[g.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export function handleNotFound(req: FastifyRequest, reply: FastifyReply): void {
  const g = new GafferError('GAFFER_ROUTE_NOT_FOUND', `${req.method} ${req.url}`);
  void reply.status(g.status).send(errorBody(g));
}

export function errorBody(g: GafferError) {
  return {
    error: {
      code: g.code,
      message: g.message,
      ...(g.details === undefined ? {} : { details: g.details }),
    },
  };
}
