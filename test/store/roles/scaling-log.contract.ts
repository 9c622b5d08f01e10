import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobStore } from '../../../src/store/job-store.ts';
import type { WorkerEvent } from '../../../src/store/roles/scaling-log.ts';
import { eachTestStore, T0 } from '../contract-fixture.ts';

/**
 * The `ScalingLog` role (src/store/roles/scaling-log.ts) as every store plays it: decisions and
 * worker events. `makeStore` must return a fresh, empty store each call; the suite closes it after
 * each test.
 */
export function describeScalingLogContract(name: string, makeStore: () => Promise<JobStore>): void {
  describe(`ScalingLog contract: ${name}`, () => {
    let store: JobStore;
    eachTestStore(makeStore, (s) => {
      store = s;
    });

    describe('decisions and worker events', () => {
      test('decisions: newest first, filtered by type, limited', async () => {
        const decision = (type: string, at: number) => ({
          type,
          at,
          from: 1,
          to: 3,
          retire: ['w1', 'w2'],
          reason: 'backlog',
          inputs: { ready: 40, inFlight: 2 },
        });
        const all = [decision('render', T0), decision('ocr', T0 + 1), decision('render', T0 + 2)];
        for (const d of all) await store.recordDecision(d);
        assert.deepEqual(await store.decisions({ limit: 10 }), [all[2], all[1], all[0]]);
        assert.deepEqual(await store.decisions({ type: 'render', limit: 10 }), [all[2], all[0]]);
        assert.deepEqual(await store.decisions({ limit: 1 }), [all[2]]);
      });

      test('worker events: newest first, filtered by type, limited', async () => {
        const event = (type: string, at: number, e: WorkerEvent['event']): WorkerEvent => ({
          at,
          workerId: `${type}-w1`,
          type,
          event: e,
          active: 0,
          detail: e === 'crashed' ? 'exit 137' : null,
        });
        const all = [
          event('render', T0, 'started'),
          event('ocr', T0 + 1, 'crashed'),
          event('render', T0 + 2, 'stopped'),
        ];
        for (const e of all) await store.recordWorkerEvent(e);
        assert.deepEqual(await store.workerEvents({ limit: 10 }), [all[2], all[1], all[0]]);
        assert.deepEqual(await store.workerEvents({ type: 'ocr', limit: 10 }), [all[1]]);
        assert.deepEqual(await store.workerEvents({ limit: 2 }), [all[2], all[1]]);
      });
    });
  });
}
