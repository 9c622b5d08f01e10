import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packingOrder } from '../../src/jobs/dispatch-order.ts';

interface W {
  id: string;
  active: number;
  concurrency: number;
  startedAt: number;
}
const w = (id: string, active: number, concurrency: number, startedAt: number): W => ({
  id,
  active,
  concurrency,
  startedAt,
});
const order = (ws: W[]) => packingOrder(ws, (x) => x).map((x) => x.id);

const cases: [string, W[], string[]][] = [
  ['fewest free slots first', [w('a', 0, 4, 0), w('b', 3, 4, 5), w('c', 1, 2, 9)], ['b', 'c', 'a']],
  ['then started earliest', [w('late', 0, 1, 20), w('early', 0, 1, 10)], ['early', 'late']],
  ['then the order given', [w('x', 1, 2, 7), w('y', 1, 2, 7)], ['x', 'y']],
  ['nothing waiting: nothing', [], []],
];
for (const [name, ws, want] of cases) test(name, () => assert.deepEqual(order(ws), want));
