import type { Job } from '../../domain/job.ts';

/**
 * Role: the operator's writes to dead-lettered jobs — edit, and replay many at once. Each applies
 * only while the job is still `dead_lettered`. The dead-letter queue (jobs/dead-letters.ts) uses it.
 */
export interface DeadLetterWrites {
  /**
   * Changes a dead-lettered job's payload, maxAttempts or priority (only the fields given), only
   * while it is `dead_lettered`. Returns the job after; a job in another state is returned
   * unchanged, so the caller decides from the state whether it worked.
   */
  editDeadLettered(id: string, patch: DeadLetterEdit): Promise<Job | undefined>;
  /**
   * Requeues the listed jobs that are still `dead_lettered`, in one transaction, as `requeue`
   * does; the others are left alone. Returns the jobs requeued.
   */
  replayDeadLettered(ids: readonly string[], now: number): Promise<Job[]>;
}

export interface DeadLetterEdit {
  payload?: unknown;
  maxAttempts?: number;
  priority?: number;
}
