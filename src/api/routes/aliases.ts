import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { JobService } from '../../jobs/service.ts';
import type { QueueView } from '../../jobs/queue-view.ts';
import { UploadQuery } from '../schemas.ts';
import { uploadBatch, type UploadDeps } from './batches.ts';
import { submitter } from '../auth/scope.ts';
import { fromApiJobsBody, toApiJobsRecord } from './api-jobs.ts';

/**
 * Compatibility endpoints (`/upload`, `/submit/:type`, `/submit-job`,
 * `/matrix-multiplication/submit-job/`, `/api/jobs`, `/queues/status`, `/desired-worker-scale`),
 * served in the request and response shapes their existing clients send and read
 * (docs/http-api.md). Each is a thin shim over the /v1 services.
 */
export interface AliasRoutesDeps extends UploadDeps {
  service: Pick<JobService, 'submit'>;
  queues: Pick<QueueView, 'status' | 'desired'>;
}

export const aliasRoutes: FastifyPluginAsync<AliasRoutesDeps> = async (app, deps) => {
  const { service } = deps;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['seed aliases'];
  r.post(
    '/upload',
    { config: { access: 'submit', upload: true }, schema: { querystring: UploadQuery, tags } },
    (req, reply) => uploadBatch(deps, req, reply, req.query),
  );

  r.post(
    '/submit/:type',
    {
      config: { access: 'submit' },
      schema: { params: Type.Object({ type: Type.String() }), tags },
    },
    async (req, reply) => {
      const { job, created } = await service.submit(
        { type: req.params.type, payload: req.body ?? {} },
        submitter(req.principal),
      );
      return reply.status(created ? 201 : 200).send({ job_id: job.id, queue: job.queue, job });
    },
  );

  // The body is the job model itself; its fields (rows, estimated runtime, latency sensitivity,
  // priority) are the routing attributes the route rules read.
  r.post('/submit-job', { config: { access: 'submit' }, schema: { tags } }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const priority =
      typeof body['priority'] === 'string' || typeof body['priority'] === 'number'
        ? body['priority']
        : undefined;
    const { job } = await service.submit(
      { payload: body, attributes: body, priority },
      submitter(req.principal),
    );
    return reply
      .status(201)
      .send({ job_id: job.id, queue: job.queue, reason: job.routeReason, job });
  });

  r.post(
    '/matrix-multiplication/submit-job/',
    { config: { access: 'submit' }, schema: { tags } },
    async (req, reply) => {
      const { job } = await service.submit(
        { type: 'matrix-multiplication', payload: req.body ?? {} },
        submitter(req.principal),
      );
      return reply.status(201).send({ job_id: job.id, job });
    },
  );

  // The pipeline/ML job model's own fields; see api-jobs.ts for how each maps.
  r.post('/api/jobs', { config: { access: 'submit' }, schema: { tags } }, async (req, reply) => {
    const sub = fromApiJobsBody(req.body);
    const { job, created } = await service.submit(sub, submitter(req.principal));
    return reply.status(created ? 201 : 200).send(toApiJobsRecord(job));
  });

  r.get('/queues/status', { config: { access: 'read' }, schema: { tags } }, async () => ({
    queues: await deps.queues.status(),
  }));
  r.get('/desired-worker-scale', { config: { access: 'read' }, schema: { tags } }, async () => ({
    types: deps.queues.desired(),
  }));
};
