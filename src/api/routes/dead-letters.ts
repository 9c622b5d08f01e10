import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { JobService } from '../../jobs/service.ts';
import {
  DeadLetterEditBody,
  DeadLetterListQuery,
  DeadLetterReplayBody,
  JobIdParams,
} from '../schemas.ts';
import { audited, type AuditSink } from '../auth/audit.ts';
import { listInScope, requireJobInScope, requireType } from '../auth/scope.ts';

/**
 * The dead-letter queue (jobs/dead-letters.ts): list, show, edit, replay one, replay many. A job
 * that is not dead-lettered answers 409 GAFFER_NOT_DEAD_LETTERED on show, edit and replay.
 */
export interface DeadLetterRoutesDeps {
  service: Pick<JobService, 'get' | 'deadLetters'>;
  audit: AuditSink;
}

export const deadLetterRoutes: FastifyPluginAsync<DeadLetterRoutesDeps> = async (
  app,
  { service, audit },
) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const dlq = service.deadLetters;
  const tags = ['dead letters'];

  r.get(
    '/dead-letters',
    { config: { access: 'read' }, schema: { querystring: DeadLetterListQuery, tags } },
    async (req) => {
      const q = req.query;
      const filter = {
        limit: q.limit,
        ...(q.type ? { type: q.type } : {}),
        ...(q.search ? { search: q.search } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      };
      return listInScope((f) => dlq.list(f), filter, req.principal);
    },
  );

  r.get(
    '/dead-letters/:id',
    { config: { access: 'read' }, schema: { params: JobIdParams, tags } },
    async (req) => {
      requireJobInScope(req.principal, await service.get(req.params.id));
      return { job: await dlq.get(req.params.id) };
    },
  );

  r.patch(
    '/dead-letters/:id',
    {
      config: { access: 'operate' },
      schema: { params: JobIdParams, body: DeadLetterEditBody, tags },
    },
    async (req) => ({
      job: await audited(
        audit,
        req,
        'dead-letter.edit',
        req.params.id,
        async () => {
          requireJobInScope(req.principal, await service.get(req.params.id));
          return dlq.edit(req.params.id, req.body);
        },
        () => ({ fields: Object.keys(req.body).sort() }),
      ),
    }),
  );

  r.post(
    '/dead-letters/:id/replay',
    { config: { access: 'operate' }, schema: { params: JobIdParams, tags } },
    async (req) => ({
      job: await audited(audit, req, 'dead-letter.replay', req.params.id, async () => {
        requireJobInScope(req.principal, await service.get(req.params.id));
        return dlq.replay(req.params.id);
      }),
    }),
  );

  r.post(
    '/dead-letters/replay',
    { config: { access: 'operate' }, schema: { body: DeadLetterReplayBody, tags } },
    async (req) => {
      const { replayed, skipped } = await audited(
        audit,
        req,
        'dead-letter.replay-many',
        null,
        async () => {
          if (req.body.type) requireType(req.principal, req.body.type);
          return dlq.replayMany(req.body, req.principal.types);
        },
        (r) => ({
          selection: selectionOf(req.body),
          replayed: r.replayed.map((j) => j.id),
          skipped: r.skipped.length,
        }),
      );
      return { replayed: replayed.length, jobIds: replayed.map((j) => j.id), skipped };
    },
  );
};

/** What a bulk replay asked for, for the audit log (ids are listed by the replayed ones). */
function selectionOf(body: {
  ids?: readonly string[];
  type?: string;
  search?: string;
  all?: boolean;
  limit: number;
}) {
  return {
    ...(body.ids ? { ids: body.ids.length } : {}),
    ...(body.type ? { type: body.type } : {}),
    ...(body.search ? { search: body.search } : {}),
    ...(body.all ? { all: true } : {}),
    limit: body.limit,
  };
}
