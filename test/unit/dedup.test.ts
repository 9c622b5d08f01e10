import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dedup, JobState } from '../../src/domain/job.ts';
import { decideDedup, type DedupDecision } from '../../src/domain/dedup.ts';
import { dedupOf } from '../../src/jobs/dedup.ts';
import { GafferError } from '../../src/errors.ts';

const NOW = 100_000;

test('decideDedup: each mode against the holder of the key, its state and times', () => {
  const live: Dedup = { mode: 'live' };
  const ttl: Dedup = { mode: 'ttl', ttlMs: 10_000 };
  const debounce: Dedup = { mode: 'debounce', debounceMs: 5_000 };
  const cases: {
    why: string;
    dedup: Dedup | null;
    state: JobState;
    createdAt?: number;
    attempt?: number;
    equal?: boolean;
    want: DedupDecision['action'];
    runAt?: number;
  }[] = [
    { why: 'default, equal', dedup: null, state: 'succeeded', equal: true, want: 'existing' },
    { why: 'default, different', dedup: null, state: 'queued', equal: false, want: 'conflict' },
    { why: 'live, queued', dedup: live, state: 'queued', want: 'existing' },
    { why: 'live, running', dedup: live, state: 'running', want: 'existing' },
    { why: 'live, starting', dedup: live, state: 'starting', want: 'existing' },
    { why: 'live, a retry waiting', dedup: live, state: 'queued', attempt: 1, want: 'existing' },
    { why: 'live, succeeded', dedup: live, state: 'succeeded', want: 'create' },
    { why: 'live, failed', dedup: live, state: 'failed', want: 'create' },
    { why: 'live, dead-lettered', dedup: live, state: 'dead_lettered', want: 'create' },
    { why: 'live, cancelled', dedup: live, state: 'cancelled', want: 'create' },
    {
      why: 'ttl, within',
      dedup: ttl,
      state: 'succeeded',
      createdAt: NOW - 9_999,
      want: 'existing',
    },
    {
      why: 'ttl, at its end',
      dedup: ttl,
      state: 'running',
      createdAt: NOW - 10_000,
      want: 'create',
    },
    { why: 'ttl, long past', dedup: ttl, state: 'queued', createdAt: 0, want: 'create' },
    { why: 'ttl ignores equality', dedup: ttl, state: 'queued', equal: false, want: 'existing' },
    {
      why: 'debounce, queued',
      dedup: debounce,
      state: 'queued',
      want: 'replace',
      runAt: NOW + 5_000,
    },
    {
      why: 'debounce, a retry waiting',
      dedup: debounce,
      state: 'queued',
      attempt: 1,
      want: 'create',
    },
    { why: 'debounce, running', dedup: debounce, state: 'running', want: 'create' },
    { why: 'debounce, starting', dedup: debounce, state: 'starting', want: 'create' },
    { why: 'debounce, ended', dedup: debounce, state: 'succeeded', want: 'create' },
  ];
  for (const c of cases) {
    const decision = decideDedup({
      existing: { state: c.state, createdAt: c.createdAt ?? NOW - 1, attempt: c.attempt ?? 0 },
      dedup: c.dedup,
      equal: c.equal ?? true,
      now: NOW,
    });
    assert.equal(decision.action, c.want, c.why);
    assert.ok(decision.reason.length > 0, c.why);
    if (c.runAt !== undefined) assert.deepEqual(decision, { ...decision, runAt: c.runAt }, c.why);
  }
});

test('dedupOf: the submission field, each mode with its own window; anything else is a 400', () => {
  assert.equal(dedupOf(undefined, 'k'), null);
  assert.deepEqual(dedupOf({ mode: 'live' }, 'k'), { mode: 'live' });
  assert.deepEqual(dedupOf({ mode: 'ttl', ttlSeconds: 60 }, 'k'), { mode: 'ttl', ttlMs: 60_000 });
  assert.deepEqual(dedupOf({ mode: 'debounce', debounceSeconds: 0.5 }, 'k'), {
    mode: 'debounce',
    debounceMs: 500,
  });
  const bad: unknown[] = [
    { mode: 'live' }, // without a key (below)
    'live',
    { mode: 'forever' },
    { mode: 'ttl' },
    { mode: 'ttl', ttlSeconds: 0 },
    { mode: 'ttl', ttlSeconds: -1 },
    { mode: 'ttl', ttlSeconds: 1e9 },
    { mode: 'live', ttlSeconds: 5 },
    { mode: 'debounce', ttlSeconds: 5 },
    { mode: 'live', extra: 1 },
  ];
  bad.forEach((given, i) => {
    assert.throws(
      () => dedupOf(given, i === 0 ? undefined : 'k'),
      (err) => err instanceof GafferError && /GAFFER_(BAD_REQUEST|UNKNOWN_FIELD)/.test(err.code),
      JSON.stringify(given),
    );
  });
});
