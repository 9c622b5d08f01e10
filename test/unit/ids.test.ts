import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newJobId } from '../../src/domain/ids.ts';

test('job ids: the creation time first, so they sort by it; unique past the random pool', () => {
  const t0 = 1_796_539_237_351;
  const ids = Array.from({ length: 20_000 }, (_, i) => newJobId(t0 + Math.floor(i / 7_000)));
  for (const id of ids) assert.match(id, /^[0-9a-z]{9}-[0-9a-f]{8}-[0-9a-f]{4}$/);
  assert.equal(new Set(ids).size, ids.length);
  const prefixes = ids.map((id) => id.slice(0, 9));
  assert.deepEqual(prefixes, prefixes.toSorted());
  assert.equal(parseInt(ids[0]!.slice(0, 9), 36), t0);
  assert.ok(newJobId(t0 + 1) > newJobId(t0) && newJobId(t0) < newJobId(t0 + 1));
});
