import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Orchestrator } from '../../orchestrator.ts';
import {
  DeadLetterEditBody,
  DeadLetterListQuery,
  DeadLetterReplayBody,
  JobIdParams,
} from '../schemas.ts';

/**
 * The dead-letter queue (jobs/dead-letters.ts): list, show, edit, replay one, replay many. A job
 * that is not dead-lettered answers 409 GAFFER_NOT_DEAD_LETTERED on show, edit and replay.
 */
export const deadLetterRoutes: FastifyPluginAsync<{ orch: Orchestrator }> = async (
  app,
  { orch },
) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const dlq = orch.service.deadLetters;
  const tags = ['dead letters'];

  r.get(
    '/dead-letters',
    { config: { access: 'read' }, schema: { querystring: DeadLetterListQuery, tags } },
    async (req) => {
      const q = req.query;
      return dlq.list({
        limit: q.limit,
        ...(q.type ? { type: q.type } : {}),
        ...(q.search ? { search: q.search } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
    },
  );

  r.get(
    '/dead-letters/:id',
    { config: { access: 'read' }, schema: { params: JobIdParams, tags } },
    async (req) => ({
      job: await dlq.get(req.params.id),
    }),
  );

  r.patch(
    '/dead-letters/:id',
    {
      config: { access: 'operate' },
      schema: { params: JobIdParams, body: DeadLetterEditBody, tags },
    },
    async (req) => ({ job: await dlq.edit(req.params.id, req.body) }),
  );

  r.post(
    '/dead-letters/:id/replay',
    { config: { access: 'operate' }, schema: { params: JobIdParams, tags } },
    async (req) => ({
      job: await dlq.replay(req.params.id),
    }),
  );

  r.post(
    '/dead-letters/replay',
    { config: { access: 'operate' }, schema: { body: DeadLetterReplayBody, tags } },
    async (req) => {
      const { replayed, skipped } = await dlq.replayMany(req.body);
      return { replayed: replayed.length, jobIds: replayed.map((j) => j.id), skipped };
    },
  );
};
