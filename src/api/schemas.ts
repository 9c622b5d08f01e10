import Type from 'typebox';
import { JOB_STATES } from '../domain/job.ts';

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

export const SubmissionBody = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  payload: Type.Optional(Type.Unknown()),
  priority: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 20 })])),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  data: Type.Optional(DataBody),
});

export const BatchBody = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  jobs: Type.Array(SubmissionBody),
});

export const JobIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const ListQuery = Type.Object({
  type: Type.Optional(Type.String()),
  state: Type.Optional(Type.Union(JOB_STATES.map((s) => Type.Literal(s)))),
  batch: Type.Optional(Type.String()),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  cursor: Type.Optional(Type.String()),
});

export const LogsQuery = Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })) });

export const UploadQuery = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1 })),
  priority: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 20 })])),
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
    priority: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 })),
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
