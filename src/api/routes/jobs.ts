import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from 'typebox';
import { GafferError } from '../../errors.ts';
import type { JobView } from '../../domain/job.ts';
import { waiting, type Waiting } from '../../jobs/waiting.ts';
import type { Orchestrator } from '../../orchestrator.ts';
import { BatchBody, JobIdParams, ListQuery, LogsQuery, SubmissionBody } from '../schemas.ts';
import { audited } from '../auth/audit.ts';
import { refuseUnknownFields } from '../../jobs/submission.ts';
import { listInScope, requireJobInScope, submitter } from '../auth/scope.ts';

/** "Why am I waiting?" for a job not started yet (jobs/waiting.ts); null for any other. */
async function waitingOf(orch: Orchestrator, job: JobView): Promise<Waiting | null> {
  if (job.state !== 'queued' && job.state !== 'starting') return null;
  const now = orch.clock.now();
  const capacity = orch.config.autoscaler.capacity;
  return waiting({
    job,
    now,
    position: job.state === 'queued' ? await orch.store.queuePosition(job, now) : 0,
    workers: orch.gateway.workers(job.type),
    max: orch.catalog.type(job.type)?.scaling.max ?? 0,
    room: orch.room(job.type),
    global: capacity == null ? null : { capacity, used: orch.gateway.workers().length },
    perMinute: orch.throughput.perMinute(job.type),
    startingFor: orch.gateway.pendingReason(job.id),
    runnable: orch.runnable(job.type),
  });
}

/** A batch's own fields; its items' are the submission's (src/jobs/submission.ts). */
const BATCH_FIELDS: ReadonlySet<string> = new Set(Object.keys(BatchBody.properties));

export const jobRoutes: FastifyPluginAsync<{ orch: Orchestrator }> = async (app, { orch }) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const service = orch.service;

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
      const max = orch.config.server.maxBatchJobs;
      if (req.body.jobs.length > max) {
        throw new GafferError('GAFFER_BATCH_TOO_LARGE', `${req.body.jobs.length} > ${max}`);
      }
      const batchId = await createBatch(orch, 'json', req.body.type ?? null);
      const subs = req.body.jobs.map((j: Static<typeof SubmissionBody>) => ({
        ...j,
        type: j.type ?? req.body.type,
      }));
      const { accepted, rejected } = await service.submitMany(
        subs,
        batchId,
        0,
        submitter(req.principal),
      );
      await orch.store.updateBatch(batchId, {
        accepted: accepted.length,
        rejected: rejected.length,
        done: true,
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
      const why = await waitingOf(orch, job);
      return { job: why ? { ...job, waiting: why } : job };
    },
  );
  r.post(
    '/jobs/:id/cancel',
    { config: { access: 'operate' }, schema: { params: JobIdParams, tags: ['jobs'] } },
    async (req) => ({
      job: await audited(orch, req, 'job.cancel', req.params.id, async () => {
        requireJobInScope(req.principal, await service.get(req.params.id));
        return service.cancel(req.params.id);
      }),
    }),
  );
  r.post(
    '/jobs/:id/retry',
    { config: { access: 'operate' }, schema: { params: JobIdParams, tags: ['jobs'] } },
    async (req) => ({
      job: await audited(orch, req, 'job.retry', req.params.id, async () => {
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

export async function createBatch(
  orch: Orchestrator,
  source: string,
  type: string | null,
): Promise<string> {
  const id = `batch-${crypto.randomUUID().slice(0, 12)}`;
  await orch.store.createBatch({
    id,
    createdAt: orch.clock.now(),
    source,
    type,
    accepted: 0,
    rejected: 0,
    done: false,
  });
  return id;
}
