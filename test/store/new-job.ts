import type { NewJob } from '../../src/domain/job.ts';

/**
 * New jobs for the store contracts: ids and createdAt grow with each call, so "older" means "made
 * earlier" and id order is creation order. `defaults` overrides the base job for every call
 * (`prefix` names the ids), `overrides` one call's.
 */
export function jobFactory(
  t0: number,
  { prefix = 'job', ...defaults }: Partial<NewJob> & { prefix?: string } = {},
): (overrides?: Partial<NewJob>) => NewJob {
  let n = 0;
  return (overrides = {}) => {
    n += 1;
    return {
      id: `${prefix}-${String(n).padStart(5, '0')}`,
      type: 'render',
      queue: 'render',
      payload: { n },
      priority: 0,
      attributes: {},
      maxAttempts: 3,
      timeoutMs: 60_000,
      createdAt: t0 + n,
      runAt: t0 + n,
      batchId: null,
      idempotencyKey: null,
      routeReason: null,
      data: null,
      ...defaults,
      ...overrides,
    };
  };
}
