import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from '../../src/jobs/group-commit.ts';

test('writes added in one turn share one flush, and each caller gets its own slice', async () => {
  const flushes: number[][] = [];
  const gc = new GroupCommit<number, number>(async (items) => {
    flushes.push(items);
    return items.map((x) => x * 10);
  });
  const [a, b, c] = await Promise.all([gc.add([1, 2]), gc.add([3]), gc.add([4, 5, 6])]);
  assert.deepEqual(flushes, [[1, 2, 3, 4, 5, 6]]);
  assert.deepEqual([a, b, c], [[10, 20], [30], [40, 50, 60]]);
});

test('without isolate, a failed flush rejects every caller of that group and spares the next group', async () => {
  let fail = true;
  const gc = new GroupCommit<number, number>(async (items) => {
    if (fail) throw new Error('disk full');
    return items;
  });
  const results = await Promise.allSettled([gc.add([1]), gc.add([2])]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  fail = false;
  assert.deepEqual(await gc.add([3]), [3]);
});

test('a group past maxItems flushes without waiting for the turn to end', async () => {
  const sizes: number[] = [];
  const gc = new GroupCommit<number, number>(
    async (items) => {
      sizes.push(items.length);
      return items;
    },
    { maxItems: 3 },
  );
  await Promise.all([gc.add([1, 2, 3]), gc.add([4])]);
  assert.deepEqual(sizes, [3, 1]);
});

test("gather 'microtask': callers resumed by one event share a group, a later turn does not", async () => {
  const sizes: number[] = [];
  const gc = new GroupCommit<number, number>(
    async (items) => {
      sizes.push(items.length);
      return items;
    },
    { gather: 'microtask' },
  );
  let go!: () => void;
  const event = new Promise<void>((resolve) => (go = resolve));
  const resumed = [1, 2, 3].map((i) => event.then(() => gc.add([i])));
  go();
  await Promise.all(resumed);
  await new Promise((r) => setImmediate(r));
  await gc.add([4]);
  assert.deepEqual(sizes, [3, 1]);
});

test('one caller whose items fail the flush fails alone: its neighbours in the group commit', async () => {
  const flushes: number[][] = [];
  const gc = new GroupCommit<number, number>(
    async (items) => {
      flushes.push(items);
      if (items.includes(13)) throw new Error('the store refuses 13');
      return items.map((x) => x * 10);
    },
    { isolate: true },
  );
  const results = await Promise.allSettled([gc.add([1, 2]), gc.add([13]), gc.add([3])]);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [[10, 20], 'the store refuses 13', [30]],
  );
  assert.deepEqual(flushes, [[1, 2, 13, 3], [1, 2], [13], [3]], 'tried together, then alone');
});
