import type { WorkerInfo } from '../domain/events.ts';

/**
 * Which of several workers waiting for jobs of one type is served first: the busiest — fewest
 * free slots, then started earliest, then the order given. Packing new work onto the workers
 * already in use leaves the surplus ones idle, so the autoscaler (which retires the longest
 * idle) can retire exactly those; spreading it (round robin) keeps every worker a little busy
 * and none retirable. Started earliest rather than most recently busy: a fixed order, so the
 * same workers keep the work and the same late ones stay idle, and it needs no bookkeeping.
 * Pure; the sort is stable.
 */
export function packingOrder<T>(
  workers: readonly T[],
  info: (w: T) => Pick<WorkerInfo, 'active' | 'concurrency' | 'startedAt'>,
): T[] {
  const free = (w: T) => info(w).concurrency - info(w).active;
  return [...workers].sort((a, b) => free(a) - free(b) || info(a).startedAt - info(b).startedAt);
}
