import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  JOB_STATES,
  canTransition,
  type Job,
  type JobError,
  type JobState,
} from '../../src/domain/job.ts';
import type { FinishUpdate, JobStore } from '../../src/store/job-store.ts';
import { jobFactory } from './new-job.ts';

/** Store-clock times: every job is due long before NOW. */
const T0 = 1_700_000_000_000;
const NOW = T0 + 1e6;
/** Every contract job expires at EXPIRY, after NOW: claims at NOW take it, a sweep at EXPIRY ends it. */
const EXPIRY = NOW + 1;
const BOOM: JobError = { class: 'application', message: 'boom' };

/** A job in some state, with the lease token its last claim gave it (null if never claimed). */
interface Held {
  job: Job;
  token: number;
}

/**
 * A store operation that may move a job to one state: it reports the job after the move, or
 * undefined when the store refused (no row changed).
 */
type Mover = (store: JobStore, held: Held) => Promise<Job | undefined>;

const claimTo =
  (to: 'running' | 'starting'): Mover =>
  async (store, { job }) => {
    const [claimed] = await store.claim({
      type: job.type,
      owner: 'contract',
      limit: 1,
      now: NOW,
      leaseExpiresAt: NOW + 60_000,
      to,
      jobIds: [job.id],
    });
    return claimed;
  };

/** The lease holder's write moving the job to `to`. */
function update(to: FinishUpdate['to'], id: string, token: number): FinishUpdate {
  const base = { id, token, now: NOW };
  switch (to) {
    case 'running':
      return { ...base, to, leaseExpiresAt: NOW + 60_000 };
    case 'succeeded':
      return { ...base, to, result: { ok: true } };
    case 'queued':
      return { ...base, to, runAt: T0, error: BOOM };
    case 'cancelled':
      return { ...base, to };
    default:
      return { ...base, to, error: BOOM };
  }
}

const finishTo =
  (to: FinishUpdate['to']): Mover =>
  async (store, { job, token }) =>
    (await store.finish([update(to, job.id, token)]))[0];

/** Every store operation that may move a job into each state. */
const MOVERS: Record<JobState, Record<string, Mover>> = {
  queued: {
    'finish (retry)': finishTo('queued'),
    requeue: async (store, { job }) => {
      const after = await store.requeue(job.id, NOW);
      return after && after.replays > job.replays ? after : undefined;
    },
    replayDeadLettered: async (store, { job }) =>
      (await store.replayDeadLettered([job.id], NOW))[0],
  },
  starting: { 'claim (per-job)': claimTo('starting') },
  running: { claim: claimTo('running'), 'finish (worker up)': finishTo('running') },
  succeeded: { finish: finishTo('succeeded') },
  failed: { finish: finishTo('failed') },
  timed_out: { finish: finishTo('timed_out') },
  cancelled: {
    finish: finishTo('cancelled'),
    cancel: async (store, { job }) => {
      const after = await store.cancel(job.id, NOW);
      return after && after.state !== job.state ? after : undefined;
    },
  },
  dead_lettered: { finish: finishTo('dead_lettered') },
  expired: {
    expire: async (store, { job }) =>
      (await store.expire(EXPIRY, 1000)).find((j) => j.id === job.id),
  },
};

/**
 * The job state machine (TRANSITIONS in src/domain/job.ts) as every JobStore enforces it: a job is
 * driven into each state through the store's own operations, then every operation that may move
 * it to each state is tried. A move in the table succeeds through at least one of them; a move
 * outside it is refused by every one, the job left in its state. Table-driven: a change to the
 * table changes what this suite demands. `makeStore` returns a fresh store.
 */
export function describeStateMachineContract(
  name: string,
  makeStore: () => Promise<JobStore>,
): void {
  describe(`JobStore state machine contract: ${name}`, () => {
    let store: JobStore;
    const newJob = jobFactory(T0, { prefix: 'sm', expiresAt: EXPIRY });
    before(async () => {
      store = await makeStore();
    });
    after(async () => {
      await store.close();
    });

    /** A fresh job in `state`, reached through the store's operations. */
    async function into(state: JobState): Promise<Held> {
      const [inserted] = await store.insert([newJob()]);
      if (state === 'expired') {
        const job = (await MOVERS.expired.expire!(store, { job: inserted!, token: 0 }))!;
        assert.equal(job?.state, 'expired', 'driving a job into expired');
        return { job, token: 0 };
      }
      const claimed = await claimTo(state === 'starting' ? 'starting' : 'running')(store, {
        job: inserted!,
        token: 0,
      });
      const token = claimed!.leaseToken!;
      let job = claimed!;
      if (state !== 'starting' && state !== 'running') {
        // queued: a retry, so the job holds a token its last claim gave it, like every ended one.
        job = (await finishTo(state as FinishUpdate['to'])(store, { job, token }))!;
      }
      assert.equal(job.state, state, `driving a job into ${state}`);
      return { job, token };
    }

    test('every state is reached through the store', async () => {
      for (const state of JOB_STATES) assert.equal((await into(state)).job.state, state);
    });

    for (const from of JOB_STATES) {
      for (const to of JOB_STATES) {
        const allowed = canTransition(from, to);
        test(`${from} → ${to} is ${allowed ? 'made' : 'refused'}`, async () => {
          const made: string[] = [];
          for (const [op, move] of Object.entries(MOVERS[to])) {
            const held = await into(from);
            const after = await move(store, held);
            const stored = await store.get(held.job.id);
            if (after) {
              assert.equal(after.state, to, `${op} reported a move to ${after.state}`);
              assert.equal(stored?.state, to, `${op} reported a move the store did not keep`);
              made.push(op);
            } else {
              assert.equal(stored?.state, from, `${op} refused yet changed the state`);
            }
          }
          if (allowed) assert.ok(made.length > 0, `no operation moved ${from} → ${to}`);
          else assert.deepEqual(made, [], `${from} → ${to} is not in the table`);
        });
      }
    }
  });
}
