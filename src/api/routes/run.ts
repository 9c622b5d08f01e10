import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { GafferError } from '../../errors.ts';
import type { Orchestrator } from '../../orchestrator.ts';
import type { AdhocPayload } from '../../worker/adhoc.ts';
import { auditFailure } from '../auth/audit.ts';
import { submitter } from '../auth/scope.ts';
import { TimeoutField } from '../schemas.ts';
import { refuseUnknownFields } from '../../jobs/submission.ts';

/**
 * `POST /v1/run` (seed 004): one ad-hoc command as a job of the ad-hoc type (`config.adhoc`,
 * src/worker/adhoc.ts). A route of its own rather than `POST /v1/jobs` with the type's name: the
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

export const runRoutes: FastifyPluginAsync<{ orch: Orchestrator }> = async (app, { orch }) => {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .post(
      '/run',
      { config: { access: 'submit' }, schema: { body: RunBody, tags: ['jobs'] } },
      async (req, reply) => {
        const adhoc = orch.config.adhoc;
        if (!adhoc.enabled) throw new GafferError('GAFFER_ADHOC_DISABLED');
        refuseUnknownFields(req.body, RUN_FIELDS);
        const { cmd, image, timeoutSeconds, env } = req.body;
        // The image actually used is recorded, so a job shows what it ran in.
        const payload: AdhocPayload = { cmd, image: image ?? adhoc.image, ...(env ? { env } : {}) };
        // The job service records every ad-hoc job created (`job.run`); a refusal is recorded here.
        const { job } = await auditFailure(orch, req.principal, 'job.run', adhoc.name, () =>
          orch.service.submit(
            {
              type: adhoc.name,
              payload,
              ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
            },
            submitter(req.principal),
          ),
        );
        return reply.status(201).send({ job });
      },
    );
};
