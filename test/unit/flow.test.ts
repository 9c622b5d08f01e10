import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decideStarts,
  fetchPlan,
  holdOf,
  keyOf,
  type FlowCandidate,
  type FlowInput,
  type FlowLimits,
  type KeyState,
} from '../../src/domain/flow.ts';

const now = 100_000;
const jobs = (key: string | null, n: number, from = 0): FlowCandidate[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${key ?? 'none'}-${from + i}`, key }));
const input = (over: Partial<FlowInput>): FlowInput => ({
  now,
  limits: {},
  paused: false,
  typeStarts: [],
  keys: [],
  candidates: [],
  max: 10,
  ...over,
});

test('decideStarts: pause, rate and no limits', () => {
  const rate: FlowLimits = { rateLimit: { starts: 3, perSeconds: 10 } };
  const cases: {
    why: string;
    in: Partial<FlowInput>;
    start: string[];
    held: Record<string, unknown>;
  }[] = [
    {
      why: 'no limits: queue order up to max, nothing held',
      in: { candidates: jobs('a', 4), max: 3 },
      start: ['a-0', 'a-1', 'a-2'],
      held: {},
    },
    {
      why: 'paused: nothing starts, every candidate waits as paused',
      in: { paused: true, limits: rate, candidates: jobs(null, 2) },
      start: [],
      held: { 'none-0': { reason: 'paused' }, 'none-1': { reason: 'paused' } },
    },
    {
      why: 'rate: room for 1 (2 starts in window, 1 outside); ETA when the oldest counted leaves',
      in: {
        limits: rate,
        typeStarts: [now - 20_000, now - 9_000, now - 1_000],
        candidates: jobs(null, 3),
      },
      start: ['none-0'],
      held: {
        'none-1': { reason: 'rate_limit', until: now - 9_000 + 10_000 },
        'none-2': { reason: 'rate_limit', until: now - 9_000 + 10_000 },
      },
    },
    {
      why: 'rate: window full, the start just made counts in the ETA',
      in: { limits: { rateLimit: { starts: 1, perSeconds: 10 } }, candidates: jobs(null, 2) },
      start: ['none-0'],
      held: { 'none-1': { reason: 'rate_limit', until: now + 10_000 } },
    },
    {
      why: 'rate: candidates beyond max are neither started nor held',
      in: { limits: rate, candidates: jobs(null, 5), max: 2 },
      start: ['none-0', 'none-1'],
      held: {},
    },
  ];
  for (const c of cases) {
    const d = decideStarts(input(c.in));
    assert.deepEqual(d.start, c.start, c.why);
    assert.deepEqual(Object.fromEntries(d.held), c.held, c.why);
  }
});

test('decideStarts: a key at its limit holds back only its own jobs; keys take fair turns', () => {
  const keyLimit: FlowLimits = { keyLimit: { key: 'payload.tenant', running: 2 } };
  const big = jobs('big', 1000);
  const small = jobs('small', 10);
  const cases: {
    why: string;
    in: Partial<FlowInput>;
    start: string[];
    heldKeys?: Record<string, number>;
  }[] = [
    {
      why: 'the big key first in line still gets only 2; the small key fills the rest',
      in: { limits: keyLimit, candidates: [...big, ...small], max: 10 },
      start: ['big-0', 'small-0', 'big-1', 'small-1'],
      heldKeys: { big: 998, small: 8 },
    },
    {
      why: 'a key already at its limit: all its candidates wait as key_limit',
      in: {
        limits: keyLimit,
        keys: [{ key: 'big', running: 2, starts: 0, lastStartedAt: now - 1 }],
        candidates: [...big.slice(0, 5), ...small.slice(0, 1)],
      },
      start: ['small-0'],
      heldKeys: { big: 5 },
    },
    {
      why: 'least recently started key goes first; a key never started before both',
      in: {
        limits: { keyLimit: { key: 'payload.tenant', running: 5 } },
        keys: [
          { key: 'a', running: 0, starts: 0, lastStartedAt: now - 10 },
          { key: 'b', running: 0, starts: 0, lastStartedAt: now - 500 },
        ],
        candidates: [...jobs('a', 3), ...jobs('b', 3), ...jobs('c', 3)],
        max: 5,
      },
      start: ['c-0', 'b-0', 'a-0', 'c-1', 'b-1'],
    },
    {
      why: 'starts per key window count like running',
      in: {
        limits: { keyLimit: { key: 'payload.tenant', starts: 2, perSeconds: 60 } },
        keys: [{ key: 'a', running: 0, starts: 1, lastStartedAt: now - 10 }],
        candidates: [...jobs('a', 3), ...jobs('b', 1)],
      },
      start: ['b-0', 'a-0'],
      heldKeys: { a: 2 },
    },
    {
      why: 'jobs without a recorded key take turns but are not key-limited',
      in: { limits: keyLimit, candidates: [...jobs(null, 3), ...jobs('a', 3)] },
      start: ['none-0', 'a-0', 'none-1', 'a-1', 'none-2'],
      heldKeys: { a: 1 },
    },
    {
      why: 'rate and key limits together: the type window bounds the total',
      in: {
        limits: { ...keyLimit, rateLimit: { starts: 3, perSeconds: 1 } },
        candidates: [...jobs('a', 3), ...jobs('b', 3)],
      },
      start: ['a-0', 'b-0', 'a-1'],
    },
  ];
  for (const c of cases) {
    const d = decideStarts(input(c.in));
    assert.deepEqual(d.start, c.start, c.why);
    if (c.heldKeys) {
      const counts: Record<string, number> = {};
      for (const hold of d.held.values()) {
        assert.equal(hold.reason, 'key_limit', c.why);
        if (hold.reason === 'key_limit') counts[hold.key] = (counts[hold.key] ?? 0) + 1;
      }
      assert.deepEqual(counts, c.heldKeys, c.why);
    }
  }
});

test('fetchPlan: reads the first max keys with room, in turn order, never a key at its limit', () => {
  const limits: FlowLimits = { keyLimit: { key: 'payload.k', running: 2 } };
  const k = (key: string, running: number, lastStartedAt: number | null): KeyState => ({
    key,
    running,
    starts: 0,
    lastStartedAt,
  });
  const keys = [k('a', 2, 1), k('b', 1, 5), k('c', 0, null), k('d', 0, 3)];
  assert.deepEqual(fetchPlan(limits, keys, 2), [
    { key: 'c', take: 2 },
    { key: 'd', take: 2 },
  ]);
  assert.deepEqual(fetchPlan(limits, keys, 10), [
    { key: 'c', take: 2 },
    { key: 'd', take: 2 },
    { key: 'b', take: 1 },
  ]);
});

test('holdOf: the reason a queued job waits now', () => {
  const limits: FlowLimits = {
    rateLimit: { starts: 1, perSeconds: 5 },
    keyLimit: { key: 'payload.k', running: 1 },
  };
  const key = (running: number): KeyState => ({ key: 'x', running, starts: 0, lastStartedAt: 0 });
  const base = { paused: false, now, typeStarts: [] as number[], key: key(0) };
  assert.deepEqual(holdOf(limits, { ...base, paused: true }), { reason: 'paused' });
  assert.deepEqual(holdOf(limits, { ...base, key: key(1) }), { reason: 'key_limit', key: 'x' });
  assert.deepEqual(holdOf(limits, { ...base, typeStarts: [now - 1000] }), {
    reason: 'rate_limit',
    until: now + 4000,
  });
  assert.equal(holdOf(limits, { ...base, typeStarts: [now - 5000] }), null);
  assert.equal(holdOf({}, base), null);
});

test('keyOf: strings as they are, numbers and booleans as JSON, anything else the empty key', () => {
  const job = { payload: { t: { id: 'acme' }, n: 7, b: true, o: {} }, attributes: { tenant: 'x' } };
  const cases: [string, string][] = [
    ['payload.t.id', 'acme'],
    ['payload.n', '7'],
    ['payload.b', 'true'],
    ['payload.o', ''],
    ['payload.missing.deeper', ''],
    ['attributes.tenant', 'x'],
  ];
  for (const [path, key] of cases) assert.equal(keyOf(path, job), key, path);
});
