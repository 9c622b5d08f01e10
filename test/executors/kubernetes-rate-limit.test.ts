import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fullBucket, take, type Bucket } from '../../src/executors/kubernetes/rate-limit.ts';

const limit = { qps: 5, burst: 10 };

test('a burst goes at once, then calls are spaced at the QPS', () => {
  let bucket = fullBucket(limit, 0);
  const waits: number[] = [];
  for (let i = 0; i < 13; i++) {
    const r = take(bucket, limit, 0);
    bucket = r.bucket;
    waits.push(r.waitMs);
  }
  assert.deepEqual(waits, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 400, 600]);
});

test('tokens refill with time, up to the burst', () => {
  let bucket: Bucket = { tokens: 0, at: 0 };
  assert.equal(take(bucket, limit, 200).waitMs, 0, 'one token after 1/qps');
  bucket = { tokens: 0, at: 0 };
  const later = take(bucket, limit, 60_000).bucket;
  assert.equal(later.tokens, limit.burst - 1, 'never more than the burst');
});

test('over any window, calls made never exceed burst + qps × window (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(2000), { minLength: 1, maxLength: 200 }), (gaps) => {
      let bucket = fullBucket(limit, 0);
      let now = 0;
      const callTimes: number[] = [];
      for (const gap of gaps) {
        now += gap;
        const r = take(bucket, limit, now);
        bucket = r.bucket;
        callTimes.push(now + r.waitMs);
      }
      const end = Math.max(...callTimes);
      assert.ok(callTimes.length <= limit.burst + Math.ceil((end * limit.qps) / 1000) + 1);
    }),
  );
});
