/**
 * The catalogue of every error the API can return: a stable code, an HTTP status and a message.
 * docs/errors.md is checked against this list by a test.
 */
export const ERRORS = {
  GAFFER_BAD_JSON: { status: 400, message: 'The request body is not valid JSON' },
  GAFFER_BAD_REQUEST: { status: 400, message: 'The request does not match the API schema' },
  GAFFER_UNKNOWN_FIELD: {
    status: 400,
    message: 'The submission has fields gaffer does not know (each is named); nothing was created',
  },
  GAFFER_UNKNOWN_TYPE: { status: 400, message: 'No job type has this name' },
  GAFFER_NO_ROUTE: { status: 400, message: 'The job names no type and no route rule matches it' },
  GAFFER_UPLOAD_NO_TYPE: {
    status: 422,
    message:
      'No row of the upload names a type or matches a route rule: pass the type (?type=, gaffer upload --type); nothing was queued',
  },
  GAFFER_RESOURCES_TOO_LARGE: {
    status: 422,
    message: 'The job asks for more resources than its type declares; nothing was created',
  },
  GAFFER_PAYLOAD_INVALID: {
    status: 422,
    message: "The payload does not match the job type's schema",
  },
  GAFFER_TIMEOUT_TOO_LONG: {
    status: 400,
    message: "The timeout is above the job type's ceiling (maxTimeoutSeconds)",
  },
  GAFFER_DELAY_INVALID: {
    status: 400,
    message:
      'runAt or delay is malformed, ambiguous (a time without a zone, epoch seconds), more than 366 days ahead, or both were given',
  },
  GAFFER_EXPIRY_INVALID: {
    status: 400,
    message:
      'expiresAt or expireIn is malformed, more than 366 days ahead, not after the job is due, or both were given',
  },
  GAFFER_ADHOC_DISABLED: {
    status: 403,
    message: 'Ad-hoc commands are off on this gaffer (set adhoc.enabled in its configuration)',
  },
  GAFFER_DATA_REF_INVALID: {
    status: 400,
    message:
      'A data reference is not s3://bucket/key, file:///path or an absolute path, or has a ".." segment or a NUL',
  },
  GAFFER_DATA_REF_FORBIDDEN: {
    status: 403,
    message:
      'A local data reference is outside every root this gaffer allows (storage.local.roots; none: local paths are off)',
  },
  GAFFER_CSV_INVALID: { status: 400, message: 'The upload is not a readable CSV file' },
  GAFFER_UPLOAD_MISSING: { status: 400, message: 'The multipart request carries no file' },
  GAFFER_BATCH_TOO_LARGE: { status: 413, message: 'The batch holds more jobs than allowed' },
  GAFFER_BODY_TOO_LARGE: { status: 413, message: 'The request body is over the size limit' },
  GAFFER_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'This content type is not accepted here' },
  GAFFER_REQUEST_TIMEOUT: {
    status: 408,
    message: 'The request was not received in time',
  },
  GAFFER_HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are over the size limit' },
  GAFFER_UNAUTHORIZED: {
    status: 401,
    message:
      'A valid API key (Authorization: Bearer, or a session cookie) is required; remote workers need the worker token (WebSocket close code 4401)',
  },
  GAFFER_FORBIDDEN: {
    status: 403,
    message: "The API key's role or job types do not allow this",
  },
  GAFFER_CROSS_ORIGIN: {
    status: 403,
    message:
      "A page of another site may not change anything here (the request's Origin is not this gaffer's)",
  },
  GAFFER_FOREIGN_HOST: {
    status: 403,
    message:
      'With no API key, gaffer on loopback answers only requests naming a loopback host (this one names another: DNS rebinding?)',
  },
  GAFFER_RATE_LIMITED: {
    status: 429,
    message:
      'Too many requests (or failed authentications); retry after Retry-After seconds (WebSocket close code 4429)',
  },
  GAFFER_JOB_NOT_FOUND: { status: 404, message: 'No job has this id' },
  GAFFER_BATCH_NOT_FOUND: { status: 404, message: 'No batch has this id' },
  GAFFER_ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  GAFFER_SCHEDULE_NOT_FOUND: { status: 404, message: 'No schedule has this name' },
  GAFFER_SCHEDULE_INVALID: {
    status: 422,
    message:
      'The schedule is not one gaffer can run (each problem is in details.problems, as a config check names it); nothing was changed',
  },
  GAFFER_SCHEDULE_CONFIGURED: {
    status: 409,
    message:
      "The schedule is declared in gaffer's config: only a config change replaces or deletes it (pause, resume and trigger work)",
  },
  GAFFER_NOT_CANCELLABLE: { status: 409, message: 'The job has already ended' },
  GAFFER_NOT_RETRYABLE: {
    status: 409,
    message: 'Only an ended job that did not succeed can be retried',
  },
  GAFFER_NOT_DEAD_LETTERED: {
    status: 409,
    message:
      'The job is not in the dead-letter queue (only a dead-lettered job can be edited or replayed there)',
  },
  GAFFER_IDEMPOTENCY_CONFLICT: {
    status: 409,
    message:
      'This idempotency key was already used, by this submitter for this job type, for a different submission',
  },
  GAFFER_STALE_LEASE: { status: 409, message: 'The lease token is not the current one' },
  GAFFER_WORKER_CONNECTED: {
    status: 409,
    message: 'A worker with this id is already connected (WebSocket close code 4409)',
  },
  GAFFER_WORKER_RETIRED: {
    status: 410,
    message: 'This worker is being removed by scale-in (WebSocket close code 4410)',
  },
  GAFFER_UNAVAILABLE: { status: 503, message: 'gaffer cannot commit right now; retry later' },
  GAFFER_STORE_FULL: {
    status: 507,
    message: "The store's disk is full: nothing was accepted; retry once space is freed",
  },
  GAFFER_INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class GafferError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  constructor(code: ErrorCode, detail?: string, options?: { details?: unknown; cause?: unknown }) {
    super(detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message, {
      cause: options?.cause,
    });
    this.name = 'GafferError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = options?.details;
  }
}
