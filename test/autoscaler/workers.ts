import fc from 'fast-check';
import type { Observation } from '../../src/autoscaler/policy.ts';
import type { WorkerInfo, WorkerState } from '../../src/domain/events.ts';

/** A pool worker of type `t`: one job when busy, started at 0, unless `more` says otherwise. */
export function poolWorker(
  id: string,
  state: WorkerState,
  more: Partial<WorkerInfo> = {},
): WorkerInfo {
  return {
    id,
    type: 't',
    mode: 'pool',
    state,
    active: state === 'busy' ? 1 : 0,
    concurrency: 1,
    startedAt: 0,
    idleSince: null,
    pid: null,
    ...more,
  };
}

/** A worker of type `t` as the policy sees it; `idleForSec` before `now` when idle. */
export function workerAt(
  now: number,
  id: string,
  state: WorkerState,
  idleForSec: number | null = null,
): WorkerInfo {
  return poolWorker(id, state, {
    idleSince: idleForSec === null ? null : now - idleForSec * 1000,
  });
}

/** A pool type `t`'s observation at `now`: nothing ready, no workers, unless `partial` says. */
export function observationAt(now: number, partial: Partial<Observation> = {}): Observation {
  return {
    type: 't',
    mode: 'pool',
    now,
    ready: 0,
    inFlight: 0,
    workers: [],
    concurrency: 1,
    ...partial,
  };
}

const STATES: WorkerState[] = ['starting', 'idle', 'busy', 'draining', 'stopped'];

/** Any pool worker of type `t` (fast-check): any state, up to 3 jobs, idle up to 2 min before `now`. */
export function arbWorkerAt(now: number): fc.Arbitrary<WorkerInfo> {
  return fc.record({
    id: fc.uuid(),
    type: fc.constant('t'),
    mode: fc.constant<'pool'>('pool'),
    state: fc.constantFrom(...STATES),
    active: fc.integer({ min: 0, max: 3 }),
    concurrency: fc.constant(1),
    startedAt: fc.constant(0),
    idleSince: fc.option(fc.integer({ min: now - 120_000, max: now }), { nil: null }),
    pid: fc.constant(null),
  });
}
