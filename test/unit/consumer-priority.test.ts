import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consumerPriority } from '../../src/worker/consumer-priority.ts';

test('an earlier-started worker subscribes with a higher priority, a millisecond apart', () => {
  const t = Date.UTC(2026, 11, 7, 17, 0, 0);
  assert.ok(consumerPriority(t) > consumerPriority(t + 1));
  assert.ok(consumerPriority(t) > consumerPriority(t + 86_400_000 * 365 * 50));
});

test('the priority is a safe integer whatever the clock reads', () => {
  for (const t of [0, 1.7, Date.UTC(2026, 0, 1), Date.UTC(2200, 0, 1) + 0.5]) {
    assert.ok(Number.isSafeInteger(consumerPriority(t)), String(t));
  }
});
