import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settleDeliveries, type DeliverySettlement } from '../../src/jobs/delivery-settle.ts';
import type { Hold } from '../../src/domain/flow.ts';

const NOW = 1_000_000;
const RETRY = 1000;
const rate = (until: number): Hold => ({ reason: 'rate_limit', until });
const key = (k: string): Hold => ({ reason: 'key_limit', key: k });
const PAUSED: Hold = { reason: 'paused' };

test('settleDeliveries: each delivered id claimed, spent, parked, kept while paused or handed back', () => {
  const cases: {
    name: string;
    ids: string[];
    claimed: string[];
    held: { id: string; hold: Hold }[];
    parks?: boolean;
    want: DeliverySettlement;
  }[] = [
    {
      name: 'all claimed: nothing else to do',
      ids: ['a', 'b'],
      claimed: ['a', 'b'],
      held: [],
      want: { spent: [], parked: [], paused: [], handBack: null },
    },
    {
      name: 'neither claimed nor held (ended, running elsewhere, not due): spent',
      ids: ['a', 'b'],
      claimed: ['a'],
      held: [],
      want: { spent: ['b'], parked: [], paused: [], handBack: null },
    },
    {
      name: 'rate window: handed back when the earliest hold frees a slot',
      ids: ['a', 'b'],
      claimed: [],
      held: [
        { id: 'a', hold: rate(NOW + 300) },
        { id: 'b', hold: rate(NOW + 200) },
      ],
      want: { spent: [], parked: [], paused: [], handBack: { ids: ['a', 'b'], at: NOW + 200 } },
    },
    {
      name: 'paused: kept by the worker, not handed back',
      ids: ['a'],
      claimed: [],
      held: [{ id: 'a', hold: PAUSED }],
      want: { spent: [], parked: [], paused: ['a'], handBack: null },
    },
    {
      name: 'a full key on a type that parks: parked, its message spent',
      ids: ['a', 'b'],
      claimed: ['b'],
      held: [{ id: 'a', hold: key('acme') }],
      parks: true,
      want: { spent: ['a'], parked: [{ id: 'a', key: 'acme' }], paused: [], handBack: null },
    },
    {
      name: "a full key's starts window (no parking): handed back after the retry delay",
      ids: ['a'],
      claimed: [],
      held: [{ id: 'a', hold: key('acme') }],
      want: { spent: [], parked: [], paused: [], handBack: { ids: ['a'], at: NOW + RETRY } },
    },
    {
      name: 'a mix: the hand-back goes at the earliest of its holds',
      ids: ['a', 'b', 'c', 'd', 'e'],
      claimed: ['e'],
      held: [
        { id: 'a', hold: rate(NOW + 5000) },
        { id: 'b', hold: key('k') },
        { id: 'c', hold: PAUSED },
      ],
      want: {
        spent: ['d'],
        parked: [],
        paused: ['c'],
        handBack: { ids: ['a', 'b'], at: NOW + RETRY },
      },
    },
  ];
  for (const c of cases) {
    const got = settleDeliveries({
      ids: c.ids,
      claimed: c.claimed,
      held: c.held,
      parks: c.parks ?? false,
      now: NOW,
      retryMs: RETRY,
    });
    assert.deepEqual(got, c.want, c.name);
  }
});
