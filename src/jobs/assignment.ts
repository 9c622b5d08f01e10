import type { Job } from '../domain/job.ts';
import type { Assignment } from '../worker/protocol.ts';

/**
 * What a worker is told about a job it now holds. With `pooled`, a suspect (its last attempt ended
 * with its process dying) is marked `isolate`, so it cannot take the pool worker's other jobs down
 * with it if it crashes again.
 */
export function toAssignment(job: Job, token: number, pooled: boolean): Assignment {
  const assignment: Assignment = {
    id: job.id,
    token,
    type: job.type,
    payload: job.payload,
    attributes: job.attributes,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    timeoutMs: job.timeoutMs,
    ...(job.data ? { data: job.data } : {}),
  };
  if (pooled && job.error?.workerLost === true) assignment.isolate = true;
  return assignment;
}
