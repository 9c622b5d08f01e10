import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { GafferError } from '../../errors.ts';
import { runCommand, type RunCommandDeps } from '../run-command.ts';
import { TimeoutField } from '../schemas.ts';
import { refuseUnknownFields } from '../../jobs/submission.ts';

/**
 * `POST /v1/run`: one ad-hoc command as a job of the ad-hoc type (`config.adhoc`,
 * src/worker/adhoc.ts; submitted by ../run-command.ts, as gRPC's RunCommand). A route of its own rather than `POST /v1/jobs` with the type's name: the
 * caller need not know that name, the body reads as the command it is, and a gaffer with ad-hoc
 * commands off answers GAFFER_ADHOC_DISABLED instead of an unknown type. Checks (payload shape,
 * image allowed, timeout ceiling, key scope) are the submission's own, so POST /v1/jobs with the
 * type's name gets exactly the same ones. Every run is in the audit log: it is a command on
 * gaffer's machine or cluster (the job service records each ad-hoc job, whatever its route).
 */

export const RunBody = Type.Object({
  cmd: Type.String({ minLength: 1 }),
  image: Type.Optional(Type.String({ minLength: 1 })),
  /** Seconds; absent: `adhoc.timeoutSeconds`; above `adhoc.maxTimeoutSeconds`: refused. */
  timeoutSeconds: Type.Optional(TimeoutField),
  env: Type.Optional(Type.Record(Type.String(), Type.String())),
});

const RUN_FIELDS: ReadonlySet<string> = new Set(Object.keys(RunBody.properties));

export const runRoutes: FastifyPluginAsync<RunCommandDeps> = async (app, deps) => {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .post(
      '/run',
      { config: { access: 'submit' }, schema: { body: RunBody, tags: ['jobs'] } },
      async (req, reply) => {
        if (!deps.adhoc().enabled) throw new GafferError('GAFFER_ADHOC_DISABLED');
        refuseUnknownFields(req.body, RUN_FIELDS);
        const job = await runCommand(deps, req.principal, req.body);
        return reply.status(201).send({ job });
      },
    );
};
