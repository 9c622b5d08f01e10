import type { StartBlock, WorkerInfo } from '../domain/events.ts';
import type { Hold } from '../domain/flow.ts';
import type { Job } from '../domain/job.ts';

/**
 * "Why am I waiting?" for a job that has not started: a machine-readable reason, its place in
 * its type's line and an estimated start — pure, from what the API reads at the moment of the
 * question.
 *
 * - `delayed`: submitted with a later `runAt`/`delay`, or a retry's backoff; it becomes claimable
 *   at runAt, its ETA.
 * - Its type's flow control holds it (src/domain/flow.ts, from `JobService.flowHold`): `paused` —
 *   an operator paused the type; `rate_limit` — the type's rate window is full, the estimate is
 *   when it frees a slot (or later, by its place in line); `key_limit` — its key (a tenant, a
 *   domain) is at its per-key limit, while other keys' jobs start.
 * - A worker was started for it (per-job mode), as its executor reports: `capacity` — it waits
 *   for room (a pod the scheduler cannot place); `rate_limit` — its Kubernetes Job waits for the
 *   client's API rate limit; `starting` — on its way.
 * - `no_worker`: no worker of its type exists yet (the autoscaler starts one on its next tick, or
 *   the type cannot run on this executor).
 * - `scaling_up`: workers of its type are starting; it is taken when one is up.
 * - `concurrency_cap`: every worker is busy and the type is at `scaling.max`.
 * - `capacity`: no more workers fit — the executor's resource limit (CPUs, memory, the cluster's
 *   allocatable and admission) or the global `autoscaler.capacity` shared by all types.
 * - `queued`: workers are busy and more may come; it waits for its turn in line.
 * The estimate is now + (position + 1) ÷ the type's recent throughput (jobs ended in the last
 * minute): null while nothing has ended lately, or for a job already given a worker.
 */
export type WaitingReason =
  | 'delayed'
  | 'paused'
  | 'key_limit'
  | 'capacity'
  | 'rate_limit'
  | 'starting'
  | 'no_worker'
  | 'scaling_up'
  | 'concurrency_cap'
  | 'queued';

export interface Waiting {
  reason: WaitingReason;
  message: string;
  /** Jobs of its type ahead of it in claim order (0: next). */
  position: number;
  /** Store-clock ms; null when unknown. */
  estimatedStartAt: number | null;
}

export interface WaitingInput {
  job: Pick<Job, 'state' | 'runAt'> & Partial<Pick<Job, 'attempt'>>;
  now: number;
  position: number;
  /** Workers of the job's type (any state). */
  workers: readonly Pick<WorkerInfo, 'state'>[];
  /** The type's `scaling.max`. */
  max: number;
  /** More workers of the type the executor has room for now (null: no limit). */
  room?: number | null;
  /** `autoscaler.capacity` and the workers of every type holding it (null: no global cap). */
  global?: { capacity: number; used: number } | null;
  /** Jobs of the type ended in the last minute. */
  perMinute: number;
  /** Per-job mode: what the worker started for this job waits for, if its executor said. */
  startingFor?: StartBlock | null;
  /** Whether this gaffer's executor can start workers of the type at all. */
  runnable: boolean;
  /** What its type's pause or flow limits hold it by now (null or absent: nothing). */
  hold?: Hold | null;
}

export function waiting(input: WaitingInput): Waiting | null {
  const { job, now, position } = input;
  if (job.state === 'starting') {
    const block = input.startingFor ?? { reason: 'starting', message: 'its worker is starting' };
    return { ...block, position: 0, estimatedStartAt: null };
  }
  if (job.state !== 'queued') return null;
  const eta = (ahead: number, from = now) =>
    input.perMinute > 0 ? Math.round(from + ((ahead + 1) * 60_000) / input.perMinute) : null;
  if (job.runAt > now) {
    const why = (job.attempt ?? 0) > 0 ? 'retry backoff' : 'delayed';
    const message = `${why}: due at ${new Date(job.runAt).toISOString()}, in ${Math.ceil((job.runAt - now) / 1000)} s`;
    return { reason: 'delayed', message, position, estimatedStartAt: job.runAt };
  }
  if (input.hold) return held(input.hold, position, eta(position));
  const live = input.workers.filter((w) => w.state !== 'draining' && w.state !== 'stopped');
  const starting = live.filter((w) => w.state === 'starting').length;
  const result = (reason: WaitingReason, message: string): Waiting => ({
    reason,
    message,
    position,
    estimatedStartAt: eta(position),
  });
  const full = noRoom(input);
  if (live.length === 0) {
    if (input.runnable && full) return result('capacity', full);
    return result(
      'no_worker',
      input.runnable
        ? 'no worker of its type yet: the autoscaler starts one'
        : 'no worker of its type: this executor cannot run it (no command, handler or image for it)',
    );
  }
  if (starting > 0 && live.length === starting) {
    return result('scaling_up', `${starting} worker(s) starting`);
  }
  if (!live.some((w) => w.state === 'idle')) {
    if (live.length >= input.max) {
      return result('concurrency_cap', `all ${live.length} workers busy, at scaling.max`);
    }
    if (full) return result('capacity', full);
  }
  return result('queued', `${position} job(s) ahead of it`);
}

/** Why no more workers of the type fit, or null while some do. */
function noRoom(input: WaitingInput): string | null {
  if (input.room === 0) {
    return 'the executor has no room for another worker of its type (its resources are in use)';
  }
  const g = input.global;
  if (g && g.used >= g.capacity) {
    return `all ${g.capacity} workers of autoscaler.capacity are in use`;
  }
  return null;
}

/** A job its type's pause or flow limits hold back. */
function held(hold: Hold, position: number, byThroughput: number | null): Waiting {
  switch (hold.reason) {
    case 'paused':
      return {
        reason: 'paused',
        message: 'its type is paused: nothing of it starts until it is resumed',
        position,
        estimatedStartAt: null,
      };
    case 'rate_limit':
      return {
        reason: 'rate_limit',
        message: "its type's rate limit: the window frees a slot at the estimated time",
        position,
        estimatedStartAt: Math.max(hold.until, byThroughput ?? hold.until),
      };
    case 'key_limit':
      return {
        reason: 'key_limit',
        message: `its key ${JSON.stringify(hold.key)} is at its limit (keyLimit); other keys' jobs start meanwhile`,
        position,
        estimatedStartAt: null,
      };
  }
}
