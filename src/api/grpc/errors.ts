import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';
import type { ErrorCode, GafferError } from '../../errors.ts';
import { toGafferError } from '../error-handler.ts';
import { ERROR_CODE_KEY, ERROR_DETAILS_KEY } from './definition.ts';

/**
 * Every catalogue code's gRPC status: the one table (docs/grpc.md shows it). Typed over the whole
 * catalogue, so a new code in src/errors.ts does not compile here until it is given a status (and
 * the table test in test/e2e/grpc.test.ts fails when run without type checking).
 * Choices beyond the obvious: oversized input is RESOURCE_EXHAUSTED, as grpc-js answers a message
 * over its size limit; a full disk too ("the entire file system is out of space" is gRPC's own
 * example); a stale lease is ABORTED (a lost compare-and-set); a route that does not exist is
 * UNIMPLEMENTED, gRPC's "no such method".
 */
export const GRPC_STATUS = {
  GAFFER_BAD_JSON: status.INVALID_ARGUMENT,
  GAFFER_BAD_REQUEST: status.INVALID_ARGUMENT,
  GAFFER_UNKNOWN_FIELD: status.INVALID_ARGUMENT,
  GAFFER_UNKNOWN_TYPE: status.INVALID_ARGUMENT,
  GAFFER_NO_ROUTE: status.INVALID_ARGUMENT,
  GAFFER_UPLOAD_NO_TYPE: status.INVALID_ARGUMENT,
  GAFFER_RESOURCES_TOO_LARGE: status.INVALID_ARGUMENT,
  GAFFER_PAYLOAD_INVALID: status.INVALID_ARGUMENT,
  GAFFER_TIMEOUT_TOO_LONG: status.INVALID_ARGUMENT,
  GAFFER_DELAY_INVALID: status.INVALID_ARGUMENT,
  GAFFER_EXPIRY_INVALID: status.INVALID_ARGUMENT,
  GAFFER_ADHOC_DISABLED: status.PERMISSION_DENIED,
  GAFFER_DATA_REF_INVALID: status.INVALID_ARGUMENT,
  GAFFER_DATA_REF_FORBIDDEN: status.PERMISSION_DENIED,
  GAFFER_CSV_INVALID: status.INVALID_ARGUMENT,
  GAFFER_UPLOAD_MISSING: status.INVALID_ARGUMENT,
  GAFFER_UNSUPPORTED_MEDIA_TYPE: status.INVALID_ARGUMENT,
  GAFFER_BATCH_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  GAFFER_BODY_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  GAFFER_HEADERS_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  GAFFER_REQUEST_TIMEOUT: status.DEADLINE_EXCEEDED,
  GAFFER_UNAUTHORIZED: status.UNAUTHENTICATED,
  GAFFER_FORBIDDEN: status.PERMISSION_DENIED,
  GAFFER_CROSS_ORIGIN: status.PERMISSION_DENIED,
  GAFFER_FOREIGN_HOST: status.PERMISSION_DENIED,
  GAFFER_RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  GAFFER_JOB_NOT_FOUND: status.NOT_FOUND,
  GAFFER_BATCH_NOT_FOUND: status.NOT_FOUND,
  GAFFER_ROUTE_NOT_FOUND: status.UNIMPLEMENTED,
  GAFFER_SCHEDULE_NOT_FOUND: status.NOT_FOUND,
  GAFFER_SCHEDULE_INVALID: status.INVALID_ARGUMENT,
  GAFFER_SCHEDULE_CONFIGURED: status.FAILED_PRECONDITION,
  GAFFER_NOT_CANCELLABLE: status.FAILED_PRECONDITION,
  GAFFER_NOT_RETRYABLE: status.FAILED_PRECONDITION,
  GAFFER_NOT_DEAD_LETTERED: status.FAILED_PRECONDITION,
  GAFFER_IDEMPOTENCY_CONFLICT: status.ALREADY_EXISTS,
  GAFFER_STALE_LEASE: status.ABORTED,
  GAFFER_WORKER_CONNECTED: status.ALREADY_EXISTS,
  GAFFER_WORKER_RETIRED: status.FAILED_PRECONDITION,
  GAFFER_UNAVAILABLE: status.UNAVAILABLE,
  GAFFER_STORE_FULL: status.RESOURCE_EXHAUSTED,
  GAFFER_INTERNAL: status.INTERNAL,
} as const satisfies Record<ErrorCode, status>;

/** Codes whose HTTP answer carries Retry-After; over gRPC the same hint is `retry-after` (s). */
const RETRY_LATER: ReadonlySet<ErrorCode> = new Set(['GAFFER_UNAVAILABLE', 'GAFFER_STORE_FULL']);

/**
 * Anything a handler threw, as the status a gRPC call ends with: the mapped code, the catalogue
 * message as details, and the catalogue code (and details, if any) in the trailing metadata.
 */
export function toServiceError(err: unknown): ServerErrorResponse {
  const g = toGafferError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, g.code);
  if (g.details !== undefined) metadata.set(ERROR_DETAILS_KEY, JSON.stringify(g.details));
  if (RETRY_LATER.has(g.code)) metadata.set('retry-after', '1');
  const e = new Error(g.message) as ServerErrorResponse;
  e.code = grpcStatusOf(g);
  e.details = g.message;
  e.metadata = metadata;
  return e;
}

export function grpcStatusOf(g: GafferError): status {
  return (GRPC_STATUS as Record<string, status>)[g.code] ?? status.INTERNAL;
}
