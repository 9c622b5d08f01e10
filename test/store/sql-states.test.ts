import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CANCELLABLE_STATES,
  CLAIMABLE_STATES,
  REQUEUEABLE_STATES,
  finishFrom,
  type JobState,
} from '../../src/domain/job.ts';
import { stateIn, transitionIn } from '../../src/store/sql-states.ts';

describe('the domain state sets the stores render', () => {
  test('each set is what the transition table says', () => {
    assert.deepEqual(CLAIMABLE_STATES, ['queued']);
    assert.deepEqual(CANCELLABLE_STATES, ['queued', 'starting', 'running']);
    assert.deepEqual(REQUEUEABLE_STATES, [
      'failed',
      'timed_out',
      'cancelled',
      'dead_lettered',
      'expired',
    ]);
    assert.deepEqual(finishFrom('running'), ['starting']);
    assert.deepEqual(finishFrom('succeeded'), ['starting', 'running']);
    assert.deepEqual(finishFrom('queued'), ['starting', 'running']);
  });
});

describe('stateIn', () => {
  test('renders a list of states, one state as an equality', () => {
    assert.equal(stateIn(['starting', 'running']), `state IN ('starting', 'running')`);
    assert.equal(stateIn(new Set<JobState>(['queued']), 'jobs.state'), `jobs.state = 'queued'`);
  });

  test('refuses an empty set and anything that is not a job state', () => {
    assert.throws(() => stateIn([]), /no states/);
    assert.throws(() => stateIn(["queued') OR ('1" as JobState]), /not a job state/);
  });
});

describe('transitionIn', () => {
  test('renders only the (to, from) pairs the table allows', () => {
    assert.equal(
      transitionIn(['running', 'failed'], ['queued', 'starting'], 'u.to', 'j.state'),
      `(u.to, j.state) IN (('running', 'queued'), ('running', 'starting'), ('failed', 'starting'))`,
    );
  });

  test('refuses a set with no allowed move', () => {
    assert.throws(() => transitionIn(['starting'], ['succeeded'], 'u.to'), /no transitions/);
  });
});
