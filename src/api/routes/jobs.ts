import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from 'typebox';
import { GafferError } from '../../errors.ts';
import type { BatchService } from '../../jobs/batches.ts';
import type { QueueView } from '../../jobs/queue-view.ts';
import type { JobService } from '../../jobs/service.ts';
import { BatchBody, JobIdParams, ListQuery, LogsQuery, SubmissionBody } from '../schemas.ts';
import { audited, type AuditSink } from '../auth/audit.ts';
import { refuseUnknownFields } from '../../jobs/submission.ts';
import { listInScope, requireJobInScope, submitter } from '../auth/scope.ts';

/** A batch's own fields; its items' are the submission's (src/jobs/submission.ts). */
const BATCH_FIELDS: ReadonlySet<string> = new Set(Object.keys(BatchBody.properties));

/** What the job routes need: the job service, JSON batches, "why waiting", the audit log. */
export interface JobRoutesDeps {
  service: Pick<JobService, 'submit' | 'get' | 'list' | 'cancel' | 'retry' | 'logs' | 'attempts'>;
  batches: Pick<BatchService, 'submit'>;
  queues: Pick<QueueView, 'waiting'>;
  audit: AuditSink;
  /** `server.maxBatchJobs`: the largest JSON batch. */
  maxBatchJobs: () => number;
}

export const jobRoutes: FastifyPluginAsync<JobRoutesDeps> = async (app, deps) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { service, audit } = deps;

  r.post(
    '/jobs',
    { config: { access: 'submit' }, schema: { body: SubmissionBody, tags: ['jobs'] } },
    async (req, reply) => {
      const { job, created } = await service.submit(req.body, submitter(req.principal));
      return reply.status(created ? 201 : 200).send({ job });
    },
  );

  r.post(
    '/jobs/batch',
    { config: { access: 'submit' }, schema: { body: BatchBody, tags: ['jobs'] } },
    async (req, reply) => {
      refuseUnknownFields(req.body, BATCH_FIELDS);
      const max = deps.maxBatchJobs();
      if (req.body.jobs.length > max) {
        throw new GafferError('GAFFER_BATCH_TOO_LARGE', `${req.body.jobs.length} > ${max}`);
      }
      const subs = req.body.jobs.map((j: Static<typeof SubmissionBody>) => ({
        ...j,
        type: j.type ?? req.body.type,
      }));
      const { batchId, accepted, rejected } = await deps.batches.submit(subs, {
        source: 'json',
        type: req.body.type ?? null,
        by: submitter(req.principal),
      });
      return reply
        .status(201)
        .send({ batchId, accepted: accepted.length, rejected, jobIds: accepted.map((j) => j.id) });
    },
  );

  r.get(
    '/jobs',
    { config: { access: 'read' }, schema: { querystring: ListQuery, tags: ['jobs'] } },
    async (req) => {
      const q = req.query;
      const filter = {
        limit: q.limit,
        ...(q.type ? { type: q.type } : {}),
        ...(q.state ? { state: q.state } : {}),
        ...(q.batch ? { batchId: q.batch } : {}),
        ...(q.search ? { search: q.search } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      };
      return listInScope((f) => service.list(f), filter, req.principal);
    },
  );

  r.get(
    '/jobs/:id',
    { config: { access: 'read' }, schema: { params: JobIdParams, tags: ['jobs'] } },
    async (req) => {
      const job = requireJobInScope(req.principal, await service.get(req.params.id));
      const why = await deps.queues.waiting(job);
      return { job: why ? { ...job, waiting: why } : job };
    },
  );
  r.post(
    '/jobs/:id/cancel',
    { config: { access: 'operate' }, schema: { params: JobIdParams, tags: ['jobs'] } },
    async (req) => ({
      job: await audited(audit, req, 'job.cancel', req.params.id, async () => {
        requireJobInScope(req.principal, await service.get(req.params.id));
        return service.cancel(req.params.id);
      }),
    }),
  );
  r.post(
    '/jobs/:id/retry',
    { config: { access: 'operate' }, schema: { params: JobIdParams, tags: ['jobs'] } },
    async (req) => ({
      job: await audited(audit, req, 'job.retry', req.params.id, async () => {
        requireJobInScope(req.principal, await service.get(req.params.id));
        return service.retry(req.params.id);
      }),
    }),
  );
  r.get(
    '/jobs/:id/logs',
    {
      config: { access: 'read' },
      schema: { params: JobIdParams, querystring: LogsQuery, tags: ['jobs'] },
    },
    async (req) => {
      requireJobInScope(req.principal, await service.get(req.params.id));
      return { lines: await service.logs(req.params.id, req.query.after) };
    },
  );
  r.get(
    '/jobs/:id/attempts',
    { config: { access: 'read' }, schema: { params: JobIdParams, tags: ['jobs'] } },
    async (req) => {
      requireJobInScope(req.principal, await service.get(req.params.id));
      return { attempts: await service.attempts(req.params.id) };
    },
  );
};
