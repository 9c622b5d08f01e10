import Type from 'typebox';
import { JOB_STATES } from '../domain/job.ts';
import { DECIMAL_TEXT, PRIORITY_LIMIT } from '../jobs/submission.ts';

/** The HTTP contract, one definition for validation, types and the OpenAPI document. */
/**
 * A job's data by reference; each reference is checked at submit by src/storage/roots.ts (its
 * syntax, and local paths against `storage.local.roots`).
 */
export const DataBody = Type.Object(
  {
    /** Objects (or `s3://bucket/prefix/` for all under it) downloaded before the job runs. */
    inputs: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { maxItems: 1000 }),
    ),
    /** Where the job's output directory is uploaded after it succeeds. */
    output: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);

/**
 * An integer, or a name ("low", "normal", "high") or an integer's digits as text. A list of types
 * rather than a union: with the API's type coercion, a union's number branch would read the string
 * "0x10" as 16; a value of either listed type is never coerced. Text of another form fails the
 * schema (like any malformed field, the whole request); src/jobs/submission.ts checks the rest.
 */
export const PriorityField = Type.Unsafe<number | string>({
  type: ['integer', 'string'],
  maxLength: 20,
  pattern: '^([+-]?[0-9]{1,16}|[A-Za-z]+)$',
  minimum: -PRIORITY_LIMIT,
  maximum: PRIORITY_LIMIT,
});

/**
 * Seconds, as a number or its decimal text, parsed strictly by src/jobs/submission.ts (not by the
 * API's type coercion, which reads "0x10" as 16); typed as the number it becomes.
 */
export const TimeoutField = Type.Unsafe<number>({
  type: ['number', 'string'],
  exclusiveMinimum: 0,
  maxLength: 40,
  pattern: DECIMAL_TEXT,
});

/** Attempts, as an integer or its digits as text (parsed by src/jobs/submission.ts). */
export const MaxAttemptsField = Type.Unsafe<number>({
  type: ['integer', 'string'],
  minimum: 1,
  maximum: 100,
  pattern: '^[0-9]{1,3}$',
});

/**
 * A time (`runAt`, `expiresAt`) or a duration (`delay`, `expireIn`): a number or text, read and
 * checked by src/jobs/submission.ts (GAFFER_DELAY_INVALID, GAFFER_EXPIRY_INVALID).
 */
export const TimingField = Type.Unsafe<number | string>({
  type: ['number', 'string'],
  maxLength: 40,
});

/**
 * A submission. Fields not listed here are refused by the submission's own checks
 * (src/jobs/submission.ts: GAFFER_UNKNOWN_FIELD, naming each), for every front end alike.
 */
export const SubmissionBody = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  payload: Type.Optional(Type.Unknown()),
  priority: Type.Optional(PriorityField),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  maxAttempts: Type.Optional(MaxAttemptsField),
  timeoutSeconds: Type.Optional(TimeoutField),
  data: Type.Optional(DataBody),
  runAt: Type.Optional(TimingField),
  delay: Type.Optional(TimingField),
  expiresAt: Type.Optional(TimingField),
  expireIn: Type.Optional(TimingField),
  /** Checked, with the type's declared resources, by src/jobs/submission.ts. */
  resources: Type.Optional(
    Type.Object({
      cpu: Type.Optional(Type.Union([Type.String(), Type.Number()])),
      memory: Type.Optional(Type.String()),
      gpus: Type.Optional(Type.Integer()),
    }),
  ),
  /** How a held idempotency key deduplicates it; checked by src/jobs/dedup.ts. */
  dedup: Type.Optional(
    Type.Object({
      mode: Type.Union([Type.Literal('live'), Type.Literal('ttl'), Type.Literal('debounce')]),
      ttlSeconds: Type.Optional(Type.Number()),
      debounceSeconds: Type.Optional(Type.Number()),
    }),
  ),
});

export const BatchBody = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  jobs: Type.Array(SubmissionBody),
});

export const JobIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const ListQuery = Type.Object({
  type: Type.Optional(Type.String()),
  /** A stored state, or `delayed`: queued jobs not yet due (a view; src/jobs/service.ts list). */
  state: Type.Optional(Type.Union([...JOB_STATES, 'delayed'].map((s) => Type.Literal(s)))),
  batch: Type.Optional(Type.String()),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  cursor: Type.Optional(Type.String()),
});

export const LogsQuery = Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })) });

/** Every row of the upload gets these (a row's own fields may not set them). */
export const UploadQuery = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1 })),
  priority: Type.Optional(PriorityField),
  runAt: Type.Optional(TimingField),
  delay: Type.Optional(TimingField),
  expiresAt: Type.Optional(TimingField),
  expireIn: Type.Optional(TimingField),
});

export const DecisionsQuery = Type.Object({
  type: Type.Optional(Type.String()),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
});

export const DeadLetterListQuery = Type.Object({
  type: Type.Optional(Type.String()),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  cursor: Type.Optional(Type.String()),
});

/** Only the fields given change; `payload` is checked against the type's payload schema. */
export const DeadLetterEditBody = Type.Object(
  {
    payload: Type.Optional(Type.Unknown()),
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    priority: Type.Optional(Type.Integer({ minimum: -PRIORITY_LIMIT, maximum: PRIORITY_LIMIT })),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** By ids, or by type and search, or everything with `all: true`; at most `limit` jobs. */
export const DeadLetterReplayBody = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 10_000 }),
    ),
    type: Type.Optional(Type.String({ minLength: 1 })),
    search: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    all: Type.Optional(Type.Boolean()),
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
  },
  { additionalProperties: false },
);
