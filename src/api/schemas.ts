import Type from 'typebox';
import { JOB_STATES } from '../domain/job.ts';

/** The HTTP contract, one definition for validation, types and the OpenAPI document. */
export const SubmissionBody = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  payload: Type.Optional(Type.Unknown()),
  priority: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 20 })])),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
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
