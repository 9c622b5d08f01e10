import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobError } from '../../src/domain/job.ts';
import {
  boundedFailure,
  delayProblem,
  MAX_HANDLER_DELAY_MS,
  snoozeError,
} from '../../src/jobs/delays.ts';
import { afterFailure } from '../../src/jobs/retry.ts';

test('delayProblem: whole ms from 0 to the maximum; anything else is refused, saying why', () => {
  const cases: [unknown, RegExp | null][] = [
    [0, null],
    [30_000, null],
    [MAX_HANDLER_DELAY_MS, null],
    [MAX_HANDLER_DELAY_MS + 1, /at most 604800000 ms/],
    [-1, /at least 0/],
    [1.5, /whole number/],
    ['30000', /whole number/],
    [Number.NaN, /whole number/],
    [Infinity, /whole number/],
    [undefined, /whole number/],
  ];
  for (const [ms, want] of cases) {
    const problem = delayProblem(ms, 'snooze');
    if (want === null) assert.equal(problem, null, String(ms));
    else assert.match(problem ?? '', want, String(ms));
  }
});

test('boundedFailure: a retry-after in bounds is kept; one out of bounds is dropped and named', () => {
  const boom: JobError = { class: 'application', message: 'boom' };
  assert.equal(boundedFailure(boom), boom);
  assert.deepEqual(boundedFailure({ ...boom, retryAfterMs: 5 }), { ...boom, retryAfterMs: 5 });
  const refused = boundedFailure({ ...boom, retryAfterMs: MAX_HANDLER_DELAY_MS + 1 });
  assert.equal(refused.retryAfterMs, undefined);
  assert.match(refused.message, /^boom \(retry after of 604800001 ms refused: at most/);
});

test('snoozeError: the record a snooze leaves', () => {
  assert.deepEqual(snoozeError(250), {
    class: 'application',
    message: 'snoozed by its handler for 250 ms; the attempt did not count',
    snoozedMs: 250,
  });
});

test("afterFailure: a handler's retry-after replaces the backoff; attempt limits still apply", () => {
  const type = { retry: { backoffMs: 1000, maxBackoffMs: 5000 }, deadLetter: false };
  const error: JobError = { class: 'application', message: 'busy', retryAfterMs: 42_000 };
  const cases = [
    { attempt: 1, want: { to: 'queued', runAt: 100 + 42_000 } },
    { attempt: 3, want: { to: 'failed', reason: 'attempts_exhausted' } },
  ];
  for (const c of cases) {
    const next = afterFailure({ attempt: c.attempt, maxAttempts: 3 }, error, type, 100, () => 0.5);
    assert.deepEqual(next, c.want, JSON.stringify(c));
  }
});
