import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Static } from 'typebox';
import { GafferError } from '../../errors.ts';
import { toGafferError } from '../error-handler.ts';
import type { Readable } from 'node:stream';
import { unknownType, type Catalog } from '../../jobs/catalog.ts';
import type { BatchService, IngestResult } from '../../jobs/batches.ts';
import { NdjsonReader } from '../ndjson-rows.ts';
import { UploadQuery } from '../schemas.ts';
import { timingOf } from '../../jobs/prepare.ts';
import { expiresAtOf, runAtOf } from '../../jobs/submission.ts';

type UploadQueryValue = Static<typeof UploadQuery>;
import { csvLine } from '../csv-cell.ts';
import { requireBatchInScope, requireType, submitter } from '../auth/scope.ts';
import type { Principal } from '../auth/access.ts';
import { allowsType } from '../auth/access.ts';
import { audited, type AuditSink } from '../auth/audit.ts';
import { priorityOf } from '../../jobs/submission.ts';

const BatchIdParams = Type.Object({ id: Type.String() });
const BatchListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String()),
});

/** What an upload needs (`POST /v1/batches`, the `POST /upload` alias). */
export interface UploadDeps {
  batches: Pick<BatchService, 'upload' | 'ingest' | 'ingestCsv' | 'csvType'>;
  /** The catalog in force: an upload's `?type=` must name one of its types. */
  catalog: () => Pick<Catalog, 'type' | 'names'>;
  /** `server.uploadLimitBytes` and `server.bodyLimitBytes` (an NDJSON line's longest). */
  limits: () => { uploadLimitBytes: number; bodyLimitBytes: number };
}

/** What the batch routes need: the batch service and the audit log. */
export interface BatchRoutesDeps extends UploadDeps {
  batches: UploadDeps['batches'] &
    Pick<BatchService, 'get' | 'list' | 'rejectedRows' | 'retryFailed'>;
  audit: AuditSink;
}

/**
 * Uploads (batches: a CSV, or jobs streamed as NDJSON), their progress and rejected rows, and
 * "retry failed rows".
 */
export const batchRoutes: FastifyPluginAsync<BatchRoutesDeps> = async (app, deps) => {
  const { batches } = deps;
  // A streamed batch's body goes to its handler unread: it is parsed line by line as it arrives.
  app.addContentTypeParser(NDJSON_TYPES, (_req, payload, done) => done(null, payload));
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/batches',
    {
      config: { access: 'submit', upload: true },
      schema: {
        querystring: UploadQuery,
        tags: ['batches'],
        consumes: ['multipart/form-data', ...NDJSON_TYPES],
      },
    },
    (req, reply) => uploadBatch(deps, req, reply, req.query),
  );

  r.get(
    '/batches',
    { config: { access: 'read' }, schema: { querystring: BatchListQuery, tags: ['batches'] } },
    async (req) => {
      const page = await batches.list({ limit: req.query.limit, cursor: req.query.cursor });
      // A batch uploaded for one type is shown only to callers of that type.
      const shown = page.batches.filter((b) => !b.type || allowsType(req.principal, b.type));
      return { batches: shown, nextCursor: page.nextCursor };
    },
  );

  r.get(
    '/batches/:id',
    {
      config: { access: 'read' },
      schema: { params: BatchIdParams, tags: ['batches'] },
    },
    async (req) => {
      // A batch uploaded for one type is that type's; a mixed one (type null) shows counts only.
      return { batch: await batchInScope(batches, req.principal, req.params.id) };
    },
  );

  r.get(
    '/batches/:id/rejected',
    {
      config: { access: 'read' },
      schema: { params: BatchIdParams, tags: ['batches'] },
    },
    async (req, reply) => {
      const batch = await batchInScope(batches, req.principal, req.params.id);
      // A mixed batch's rejected rows are raw rows of any type (the type a row would have been
      // routed to is not stored): only a key of every type reads them.
      if (batch.type === null && req.principal.types !== null) {
        throw new GafferError(
          'GAFFER_FORBIDDEN',
          `the rejected rows of a batch uploaded without ?type= may hold any type's rows; key ${req.principal.id} is for some types only (upload with ?type= to read them)`,
        );
      }
      const rows = await batches.rejectedRows(req.params.id);
      const lines = [
        'row,code,message,raw',
        ...rows.map((x) => csvLine([x.row, x.code, x.message, x.raw])),
      ];
      return reply
        .type('text/csv')
        .header('content-disposition', `attachment; filename="${req.params.id}-rejected.csv"`)
        .send(lines.join('\n') + '\n');
    },
  );

  r.post(
    '/batches/:id/retry-failed',
    { config: { access: 'operate' }, schema: { params: BatchIdParams, tags: ['batches'] } },
    async (req) => {
      const id = req.params.id;
      await batchInScope(batches, req.principal, id);
      return audited(deps.audit, req, 'batch.retry-failed', id, () =>
        batches.retryFailed(id, (type) => allowsType(req.principal, type)),
      );
    },
  );
};

/**
 * The batch, when `principal` may see it: one uploaded for another type is answered as an unknown
 * id (404), so a scoped key cannot tell which batch ids exist.
 */
async function batchInScope(batches: Pick<BatchService, 'get'>, principal: Principal, id: string) {
  return requireBatchInScope(principal, await batches.get(id));
}

/** Content types of a streamed batch: one submission per line (NDJSON, JSON Lines). */
const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl'];

/**
 * `POST /v1/batches`: a CSV upload (multipart) or a streamed batch (NDJSON), each a batch of one
 * job per row; the `POST /upload` alias takes the CSV only.
 */
export async function uploadBatch(
  deps: UploadDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  query: UploadQueryValue,
) {
  if (NDJSON_TYPES.includes(req.headers['content-type']?.split(';')[0]?.trim() ?? '')) {
    return uploadNdjson(deps, req, reply, query);
  }
  if (!req.isMultipart()) {
    throw new GafferError(
      'GAFFER_UNSUPPORTED_MEDIA_TYPE',
      'send the CSV as multipart/form-data, field "file", or jobs as application/x-ndjson',
    );
  }
  const limit = checkUpload(deps, req, query);
  let file;
  try {
    file = await req.file();
  } catch (err) {
    throw malformedMultipart(err);
  }
  if (!file) throw new GafferError('GAFFER_UPLOAD_MISSING');
  // busboy cuts the file at the limit but goes on reading the request to its end before the file
  // stream ends (a chunked 50 MB upload was read in full, then answered). Failing the stream at
  // the limit answers 413 at once; the error handler then closes the connection.
  file.file.once('limit', () => {
    file.file.destroy(
      Object.assign(new Error(`over ${limit} bytes`), { code: 'FST_REQ_FILE_TOO_LARGE' }),
    );
  });
  const { file: stream, filename } = file;
  // The batch is labelled with the rows' type: the one given, else the configured default.
  const type = deps.batches.csvType(query.type);
  return runUpload(deps, reply, filename || 'upload.csv', type, async (batchId) => {
    const result = await deps.batches.ingestCsv(batchId, stream, {
      type: query.type,
      priority: query.priority,
      timing: timingOf(query),
      by: submitter(req.principal),
    });
    if (stream.truncated) {
      throw new GafferError(
        'GAFFER_BODY_TOO_LARGE',
        `over ${limit} bytes; the ${result.accepted} rows before the limit were kept in batch ${batchId}`,
        { details: { batchId, accepted: result.accepted } },
      );
    }
    return result;
  });
}

/**
 * A streamed batch: the request body is read as it arrives (the content-type parser in
 * batchRoutes hands it over unread), line by line, committed in chunks like a CSV upload, so its
 * size is bounded by `server.uploadLimitBytes`, not by the JSON body limit.
 */
function uploadNdjson(
  deps: UploadDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  query: UploadQueryValue,
) {
  const limit = checkUpload(deps, req, query);
  const reader = new NdjsonReader({
    type: query.type,
    priority: query.priority,
    timing: timingOf(query),
    maxLineChars: deps.limits().bodyLimitBytes,
  });
  return runUpload(deps, reply, 'ndjson', query.type, (batchId) =>
    deps.batches.ingest(batchId, req.body as Readable, reader, {
      by: submitter(req.principal),
      maxBytes: limit,
    }),
  );
}

/** Refuses an upload before a byte of it is read; returns the size limit. */
function checkUpload(deps: UploadDeps, req: FastifyRequest, query: UploadQueryValue): number {
  // Every row's priority: a malformed one refuses the upload before a row is read.
  priorityOf(query.priority, 0);
  // And every row's due time and expiry (checked against this moment; each row again at its own).
  const now = Date.now();
  const timing = timingOf(query);
  expiresAtOf(timing, now, runAtOf(timing, now));
  const declared = Number(req.headers['content-length'] ?? 0);
  const limit = deps.limits().uploadLimitBytes;
  // Multipart framing adds well under 8 KiB; anything bigger is refused before a byte is read.
  if (declared > limit + 8 * 1024) {
    throw new GafferError('GAFFER_BODY_TOO_LARGE', `${declared} bytes > ${limit}`);
  }
  const catalog = deps.catalog();
  if (query.type && !catalog.type(query.type)) throw unknownType(catalog, query.type);
  if (query.type) requireType(req.principal, query.type);
  return limit;
}

/**
 * The batch around an upload (`BatchService.upload`): created first, marked done whatever
 * happens, answered with its counts and first rejected rows. A failure part way keeps the rows
 * committed before it.
 */
async function runUpload(
  deps: UploadDeps,
  reply: FastifyReply,
  source: string,
  type: string | undefined,
  read: (batchId: string) => Promise<IngestResult>,
) {
  const limit = deps.limits().uploadLimitBytes;
  const { batch, result } = await deps.batches.upload(source, type ?? null, read, (err, batchId) =>
    uploadFailure(err, batchId, limit),
  );
  return reply.status(201).send({ batch, rejected: result.firstRejected });
}

function uploadFailure(err: unknown, batchId: string, limit: number): GafferError {
  if (err instanceof GafferError) return err;
  if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
    return new GafferError(
      'GAFFER_BODY_TOO_LARGE',
      `over ${limit} bytes; rows before the limit were kept in batch ${batchId}`,
      { details: { batchId } },
    );
  }
  return new GafferError('GAFFER_CSV_INVALID', (err as Error).message, {
    details: { batchId },
    cause: err,
  });
}

/**
 * busboy reports a body it cannot read as multipart (no boundary, garbage, a part cut off) with a
 * plain Error, which would otherwise be a 500; Fastify's own errors keep their catalogue code.
 */
function malformedMultipart(err: unknown): GafferError {
  const mapped = toGafferError(err);
  if (mapped.code !== 'GAFFER_INTERNAL') return mapped;
  return new GafferError(
    'GAFFER_BAD_REQUEST',
    `malformed multipart body: ${(err as Error).message}`,
    {
      cause: err,
    },
  );
}
