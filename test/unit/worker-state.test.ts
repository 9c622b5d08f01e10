import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  WORKER_STATES,
  canWorkerTransition,
  type WorkerState,
} from '../../src/domain/worker-state.ts';

/** Every move the gateway makes, with what makes it; every other pair is refused. */
const ALLOWED: [from: WorkerState, to: WorkerState, why: string][] = [
  ['starting', 'idle', 'its hello: ready for claims'],
  ['starting', 'busy', 'leased a job before its hello (a per-job worker says it started)'],
  ['starting', 'draining', 'retired before it was up'],
  ['starting', 'stopped', 'exited before it was up'],
  ['idle', 'busy', 'leased a job'],
  ['idle', 'draining', 'retired (scale-in)'],
  ['idle', 'stopped', 'exited'],
  ['busy', 'idle', 'holds no job any more'],
  ['busy', 'draining', 'retired: finishes what it holds first'],
  ['busy', 'stopped', 'exited (crashed, or its jobs go back)'],
  ['draining', 'stopped', 'exited once it held nothing'],
];

test('the worker state table allows exactly the moves the gateway makes', () => {
  for (const from of WORKER_STATES) {
    for (const to of WORKER_STATES) {
      const why = ALLOWED.find(([f, t]) => f === from && t === to)?.[2];
      assert.equal(canWorkerTransition(from, to), why !== undefined, `${from} → ${to}: ${why}`);
    }
  }
});

test('draining is left only by stopping, stopped by nothing, and no state moves to itself', () => {
  for (const to of WORKER_STATES) {
    assert.equal(canWorkerTransition('draining', to), to === 'stopped', `draining → ${to}`);
    assert.equal(canWorkerTransition('stopped', to), false, `stopped → ${to}`);
    assert.equal(canWorkerTransition(to, to), false, `${to} → ${to}`);
  }
});
