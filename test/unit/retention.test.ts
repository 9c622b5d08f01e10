import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capResult, PURGE_CHUNK, purgeRequest } from '../../src/jobs/retention.ts';

const DAY = 86_400_000;
const ENDED = ['succeeded', 'failed', 'timed_out', 'cancelled', 'expired'];

test('purgeRequest: nothing without a record limit; ages and counts as the store needs them', () => {
  const cases = [
    { policy: { deadLetters: false }, want: null },
    {
      policy: { maxAgeDays: 7, deadLetters: false },
      want: {
        states: ENDED,
        endedBefore: 10 * DAY - 7 * DAY,
        keepNewest: null,
        limit: PURGE_CHUNK,
      },
    },
    {
      policy: { maxJobs: 0, deadLetters: true },
      want: {
        states: [...ENDED, 'dead_lettered'],
        endedBefore: null,
        keepNewest: 0,
        limit: PURGE_CHUNK,
      },
    },
    {
      policy: { maxAgeDays: 0.5, maxJobs: 100, deadLetters: false },
      want: { states: ENDED, endedBefore: 9.5 * DAY, keepNewest: 100, limit: PURGE_CHUNK },
    },
  ];
  for (const c of cases) {
    assert.deepEqual(purgeRequest(c.policy, 10 * DAY), c.want, JSON.stringify(c.policy));
  }
});

test('capResult: a result over the limit becomes a marker with its size', () => {
  assert.deepEqual(capResult({ a: 1 }, undefined), { a: 1 });
  assert.deepEqual(capResult('x'.repeat(10), 12), 'x'.repeat(10)); // "xxxxxxxxxx" is 12 bytes
  assert.deepEqual(capResult('x'.repeat(11), 12), { truncated: true, bytes: 13, limit: 12 });
  assert.deepEqual(capResult('é', 3), { truncated: true, bytes: 4, limit: 3 }); // UTF-8 bytes
  assert.equal(capResult(undefined, 64), undefined);
});
