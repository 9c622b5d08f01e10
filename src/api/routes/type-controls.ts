import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { JobService } from '../../jobs/service.ts';
import { allowsType } from '../auth/access.ts';
import { submitter } from '../auth/scope.ts';

/** What the type pause routes need. */
export interface TypeControlRoutesDeps {
  service: Pick<JobService, 'pause' | 'resume' | 'pausedTypes'>;
}

const TypeParams = Type.Object({ type: Type.String({ minLength: 1, maxLength: 200 }) });

/**
 * Pausing a job type (docs/flow-control.md): a paused type accepts submissions and starts nothing
 * until resumed; the pause is durable and audited (`type.pause`, `type.resume`). Operators only; a
 * key scoped to types pauses, resumes and sees only those.
 */
export const typeControlRoutes: FastifyPluginAsync<TypeControlRoutesDeps> = async (app, deps) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { service } = deps;
  r.get(
    '/types/paused',
    { config: { access: 'read' }, schema: { tags: ['queues'] } },
    async (req) => ({
      paused: (await service.pausedTypes()).filter((p) => allowsType(req.principal, p.type)),
    }),
  );
  r.post(
    '/types/:type/pause',
    { config: { access: 'operate' }, schema: { params: TypeParams, tags: ['queues'] } },
    async (req) => {
      await service.pause(req.params.type, submitter(req.principal));
      return { type: req.params.type, paused: true };
    },
  );
  r.post(
    '/types/:type/resume',
    { config: { access: 'operate' }, schema: { params: TypeParams, tags: ['queues'] } },
    async (req) => {
      await service.resume(req.params.type, submitter(req.principal));
      return { type: req.params.type, paused: false };
    },
  );
};
