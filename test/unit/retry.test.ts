import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobError } from '../../src/domain/job.ts';
import { afterFailure, backoffMs, type AfterFailure } from '../../src/jobs/retry.ts';

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

test('afterFailure: per-class limits lower the job ceiling; non-retryable failures end at once', () => {
  const classes = {
    application: { maxAttempts: 2 },
    infrastructure: { backoffMs: 10, maxBackoffMs: 20 },
    oom: { maxAttempts: 5 },
  };
  const policy = { ...retry, maxAttempts: 4, classes, nonRetryableExitCodes: [2, 64] };
  const err = (over: Partial<JobError>): JobError => ({ ...app, ...over });
  const cases: {
    why: string;
    attempt: number;
    max?: number;
    error: JobError;
    deadLetter?: boolean;
    want: AfterFailure;
  }[] = [
    { why: 'application below its class limit', attempt: 1, error: app, want: q(1000) },
    {
      why: 'application at its class limit',
      attempt: 2,
      error: app,
      want: { to: 'dead_lettered', reason: 'class_limit' },
    },
    {
      why: 'the class limit counts attempts of every class',
      attempt: 2,
      error: app,
      deadLetter: false,
      want: { to: 'failed', reason: 'class_limit' },
    },
    {
      why: 'infrastructure: its own backoff',
      attempt: 3,
      error: err({ class: 'infrastructure' }),
      want: q(20),
    },
    {
      why: 'infrastructure: the job ceiling still holds',
      attempt: 4,
      error: err({ class: 'infrastructure' }),
      want: { to: 'dead_lettered', reason: 'attempts_exhausted' },
    },
    {
      why: 'a class limit above the ceiling cannot raise it (the job ceiling wins)',
      attempt: 3,
      max: 3,
      error: err({ class: 'oom' }),
      deadLetter: false,
      want: { to: 'failed', reason: 'attempts_exhausted' },
    },
    {
      why: 'a class without settings retries like the type',
      attempt: 2,
      error: timeout,
      want: q(2000),
    },
    {
      why: 'a timed-out job without a dead-letter queue ends timed_out',
      attempt: 4,
      error: timeout,
      deadLetter: false,
      want: { to: 'timed_out', reason: 'attempts_exhausted' },
    },
    {
      why: 'a listed exit code is final',
      attempt: 1,
      error: err({ exitCode: 64 }),
      want: { to: 'dead_lettered', reason: 'non_retryable' },
    },
    {
      why: 'an unlisted exit code retries',
      attempt: 1,
      error: err({ exitCode: 1 }),
      want: q(1000),
    },
    {
      why: 'exit codes are matched on application failures only',
      attempt: 1,
      error: err({ class: 'infrastructure', exitCode: 2 }),
      want: q(10),
    },
    {
      why: 'a handler error marked non-retryable is final',
      attempt: 1,
      error: err({ retryable: false }),
      deadLetter: false,
      want: { to: 'failed', reason: 'non_retryable' },
    },
  ];
  for (const c of cases) {
    const next = afterFailure(
      { attempt: c.attempt, maxAttempts: c.max ?? 4 },
      c.error,
      { retry: policy, deadLetter: c.deadLetter ?? true },
      0,
      () => 0.5,
    );
    assert.deepEqual(next, c.want, c.why);
  }
});

test('afterFailure: without classes or exit codes, behaviour is as before they existed', () => {
  for (const cls of ['application', 'infrastructure', 'timeout', 'oom'] as const) {
    const error: JobError = { class: cls, message: 'x', exitCode: 2 };
    const type = { retry, deadLetter: true };
    assert.deepEqual(
      afterFailure({ attempt: 2, maxAttempts: 3 }, error, type, 5, () => 0.5),
      q(2005),
    );
    assert.equal(afterFailure({ attempt: 3, maxAttempts: 3 }, error, type, 5).to, 'dead_lettered');
  }
});

/** A retry due `runAt` (jitter fixed at the middle: exactly the base backoff). */
function q(runAt: number): AfterFailure {
  return { to: 'queued', runAt };
}

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
