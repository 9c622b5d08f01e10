import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GafferError, type ErrorCode } from '../errors.ts';

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
  const g = toGafferError(err);
  if (g.code === 'GAFFER_INTERNAL') req.log.error({ err }, 'internal error');
  if (g.code === 'GAFFER_UNAVAILABLE') void reply.header('retry-after', '1');
  void reply.status(g.status).send(errorBody(g));
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
