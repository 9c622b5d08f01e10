import type { Job } from '../domain/job.ts';
import { GafferError } from '../errors.ts';
import type { AdhocConfig } from '../config/schema.ts';
import type { JobService } from '../jobs/service.ts';
import type { AdhocPayload } from '../worker/adhoc.ts';
import type { Principal } from './auth/access.ts';
import { auditFailure, type AuditSink } from './auth/audit.ts';
import { submitter } from './auth/scope.ts';

/** One ad-hoc command as a caller sends it: POST /v1/run's body, gRPC's RunCommandRequest. */
export interface RunCommand {
  cmd: string;
  /** Absent: `adhoc.image`. */
  image?: string | undefined;
  /** Absent: `adhoc.timeoutSeconds`; above `adhoc.maxTimeoutSeconds`: refused. */
  timeoutSeconds?: number | undefined;
  env?: Record<string, string> | undefined;
}

/**
 * Submits one ad-hoc command as a job of the ad-hoc type (`config.adhoc`, src/worker/adhoc.ts),
 * for every front end that runs one (POST /v1/run, gRPC RunCommand): GAFFER_ADHOC_DISABLED while
 * they are off. The checks (payload shape, image allowed, timeout ceiling, key scope) are the
 * submission's own. The job service records every ad-hoc job created (`job.run`); a refusal is
 * recorded here. `via`: the front end when it is not HTTP (the audit's `api`).
 */
/** What running a command needs: the ad-hoc settings in force, the job service, the audit log. */
export interface RunCommandDeps {
  adhoc: () => AdhocConfig;
  service: Pick<JobService, 'submit'>;
  audit: AuditSink;
}

export async function runCommand(
  deps: RunCommandDeps,
  principal: Principal,
  run: RunCommand,
  via?: string,
): Promise<Job> {
  const adhoc = deps.adhoc();
  if (!adhoc.enabled) throw new GafferError('GAFFER_ADHOC_DISABLED');
  const { cmd, image, timeoutSeconds, env } = run;
  // The image actually used is recorded, so a job shows what it ran in.
  const payload: AdhocPayload = { cmd, image: image || adhoc.image, ...(env ? { env } : {}) };
  const { job } = await auditFailure(deps.audit, principal, 'job.run', adhoc.name, () =>
    deps.service.submit(
      {
        type: adhoc.name,
        payload,
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      },
      submitter(principal, via),
    ),
  );
  return job;
}
