import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';
import type { Job, JobError } from '../../src/domain/job.ts';
import type { JobStore } from '../../src/store/job-store.ts';
import type { ClaimRequest, JobRecords } from '../../src/store/roles/job-records.ts';
import { jobFactory } from './new-job.ts';

/** Store-clock times: jobs are created just after T0; NOW is well after every default runAt. */
export const T0 = 1_700_000_000_000;
export const NOW = T0 + 1_000_000;
export const LEASE = NOW + 30_000;
export const BOOM: JobError = { class: 'application', message: 'boom', exitCode: 1, signal: null };

export const ids = (jobs: readonly Job[]) => jobs.map((j) => j.id);

/** The token of a claimed job; a claimed job always has one. */
export function tokenOf(job: Job | undefined): number {
  assert.ok(job, 'expected a claimed job');
  assert.equal(typeof job.leaseToken, 'number');
  return job.leaseToken as number;
}

/**
 * Before each test of the enclosing suite, a fresh, empty store from `makeStore` and a job factory
 * starting at T0, handed to `use`; after each, the store is closed.
 */
export function eachTestStore(
  makeStore: () => Promise<JobStore>,
  use: (store: JobStore, newJob: ReturnType<typeof jobFactory>) => void,
): void {
  let store: JobStore | undefined;
  beforeEach(async () => {
    store = await makeStore();
    use(store, jobFactory(T0));
  });
  afterEach(async () => {
    await store?.close();
  });
}

/** A claim request with the contracts' defaults: type `render`, owner `gaffer-1/w1`, up to 100, at NOW. */
export function claimRequest(req: Partial<ClaimRequest> = {}): ClaimRequest {
  return {
    type: 'render',
    owner: 'gaffer-1/w1',
    limit: 100,
    now: NOW,
    leaseExpiresAt: LEASE,
    to: 'running',
    ...req,
  };
}

/** A claim on the store with the contracts' defaults (`claimRequest`). */
export function claimWith(store: () => Pick<JobRecords, 'claim'>) {
  return (req: Partial<ClaimRequest> = {}) => store().claim(claimRequest(req));
}
