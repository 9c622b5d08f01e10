import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { ScheduleService } from '../../schedules/service.ts';
import { submitter } from '../auth/scope.ts';

/** What the schedule routes need. */
export interface ScheduleRoutesDeps {
  schedules: Pick<
    ScheduleService,
    'list' | 'get' | 'put' | 'delete' | 'pause' | 'resume' | 'trigger'
  >;
}

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });
const params = { params: NameParams, tags: ['schedules'] };

/**
 * Cron schedules (docs/schedules.md): the config's and the API's, with next and last runs. Anyone
 * who reads lists them; operators declare (PUT: checked as the config's are), delete, pause,
 * resume and trigger them, each audited by the schedule service. A key scoped to types sees and
 * acts on the schedules submitting those types only (any other is answered as unknown).
 */
export const scheduleRoutes: FastifyPluginAsync<ScheduleRoutesDeps> = async (app, deps) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { schedules } = deps;
  r.get(
    '/schedules',
    { config: { access: 'read' }, schema: { tags: ['schedules'] } },
    async (req) => ({
      schedules: await schedules.list(submitter(req.principal)),
    }),
  );
  r.get('/schedules/:name', { config: { access: 'read' }, schema: params }, async (req) => {
    const { recentJobs, ...schedule } = await schedules.get(
      req.params.name,
      submitter(req.principal),
    );
    return { schedule, jobs: recentJobs };
  });
  // The body is a schedule as the config's `schedules.<name>` declares it; the service checks it
  // (422 GAFFER_SCHEDULE_INVALID, each problem named), so the route takes any JSON object.
  r.put(
    '/schedules/:name',
    {
      config: { access: 'operate' },
      schema: { ...params, body: Type.Object({}, { additionalProperties: true }) },
    },
    async (req, reply) => {
      const out = await schedules.put(req.params.name, req.body, submitter(req.principal));
      return reply.code(out.created ? 201 : 200).send({ schedule: out.schedule });
    },
  );
  r.delete(
    '/schedules/:name',
    { config: { access: 'operate' }, schema: params },
    async (req, reply) => {
      await schedules.delete(req.params.name, submitter(req.principal));
      return reply.code(204).send();
    },
  );
  r.post(
    '/schedules/:name/pause',
    { config: { access: 'operate' }, schema: params },
    async (req) => ({
      schedule: await schedules.pause(req.params.name, submitter(req.principal)),
    }),
  );
  r.post(
    '/schedules/:name/resume',
    { config: { access: 'operate' }, schema: params },
    async (req) => ({
      schedule: await schedules.resume(req.params.name, submitter(req.principal)),
    }),
  );
  r.post(
    '/schedules/:name/trigger',
    { config: { access: 'operate' }, schema: params },
    async (req, reply) =>
      reply
        .code(201)
        .send({ job: await schedules.trigger(req.params.name, submitter(req.principal)) }),
  );
};
