import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobError } from '../../src/domain/job.ts';
import { afterFailure, backoffMs } from '../../src/jobs/retry.ts';

const retry = { maxAttempts: 3, backoffMs: 1000, maxBackoffMs: 5000 };
const app: JobError = { class: 'application', message: 'boom' };
const timeout: JobError = { class: 'timeout', message: 'too slow' };

test('afterFailure: retries while attempts remain, then ends by the dead-letter setting and class', () => {
  const cases = [
    { attempt: 1, error: app, deadLetter: true, to: 'queued' },
    { attempt: 2, error: app, deadLetter: true, to: 'queued' },
    { attempt: 3, error: app, deadLetter: true, to: 'dead_lettered' },
    { attempt: 3, error: app, deadLetter: false, to: 'failed' },
    { attempt: 3, error: timeout, deadLetter: false, to: 'timed_out' },
  ] as const;
  for (const c of cases) {
    const next = afterFailure(
      { attempt: c.attempt, maxAttempts: 3 },
      c.error,
      { retry, deadLetter: c.deadLetter },
      0,
      () => 0.5,
    );
    assert.equal(next.to, c.to, JSON.stringify(c));
  }
});

test('backoff doubles per attempt, is capped, and jitters within ±20%', () => {
  assert.equal(
    backoffMs(1, retry, () => 0.5),
    1000,
  );
  assert.equal(
    backoffMs(2, retry, () => 0.5),
    2000,
  );
  assert.equal(
    backoffMs(3, retry, () => 0.5),
    4000,
  );
  assert.equal(
    backoffMs(9, retry, () => 0.5),
    5000,
  );
  assert.equal(
    backoffMs(1, retry, () => 0),
    800,
  );
  assert.equal(
    backoffMs(1, retry, () => 1),
    1200,
  );
});
