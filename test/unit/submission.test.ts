import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GafferError } from '../../src/errors.ts';
import {
  checkJsonValue,
  expiresAtOf,
  MAX_DELAY_MS,
  MAX_JSON_DEPTH,
  MAX_TIMEOUT_MS,
  maxAttemptsOf,
  PRIORITY_LIMIT,
  priorityOf,
  refuseUnknownFields,
  resourcesOf,
  type ResourceCeiling,
  runAtOf,
  SUBMISSION_FIELDS,
  timeoutMsOf,
} from '../../src/jobs/submission.ts';

/** The code a check throws, or 'ok' with its value. */
function outcome<T>(fn: () => T): string | T {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof GafferError, String(err));
    return err.code;
  }
}

describe('priority: an integer within bounds, a name, or an integer as text', () => {
  const table: [unknown, number | string][] = [
    [undefined, 5], // the type's default
    [0, 0],
    [16, 16],
    [-PRIORITY_LIMIT, -PRIORITY_LIMIT],
    [PRIORITY_LIMIT, PRIORITY_LIMIT],
    ['high', 10],
    ['LOW', -10],
    ['normal', 0],
    ['16', 16],
    ['-3', -3],
    ['0x10', 'GAFFER_BAD_REQUEST'],
    ['1e3', 'GAFFER_BAD_REQUEST'],
    ['16.5', 'GAFFER_BAD_REQUEST'],
    [' 16', 'GAFFER_BAD_REQUEST'],
    ['', 'GAFFER_BAD_REQUEST'],
    ['urgent', 'GAFFER_BAD_REQUEST'],
    ['constructor', 'GAFFER_BAD_REQUEST'],
    ['Infinity', 'GAFFER_BAD_REQUEST'],
    [2.5, 'GAFFER_BAD_REQUEST'],
    [PRIORITY_LIMIT + 1, 'GAFFER_BAD_REQUEST'],
    [1e10, 'GAFFER_BAD_REQUEST'],
    [Infinity, 'GAFFER_BAD_REQUEST'],
    [NaN, 'GAFFER_BAD_REQUEST'],
    [true, 'GAFFER_BAD_REQUEST'],
  ];
  for (const [given, expected] of table) {
    test(`${JSON.stringify(given) ?? String(given)} → ${expected}`, () => {
      assert.equal(
        outcome(() => priorityOf(given, 5)),
        expected,
      );
    });
  }
});

describe('timeout: converted to whole ms, then at least 1 ms and within the ceilings', () => {
  const table: [unknown, number | undefined, number | string][] = [
    [undefined, undefined, 300_000], // the type's default (300 s)
    [1, undefined, 1000],
    [0.001, undefined, 1],
    [0.0015, undefined, 2],
    [0.0001, undefined, 'GAFFER_BAD_REQUEST'], // rounds to 0 ms: no timer
    [0.0004, 120, 'GAFFER_BAD_REQUEST'],
    [0, undefined, 'GAFFER_BAD_REQUEST'],
    [-1, undefined, 'GAFFER_BAD_REQUEST'],
    [Infinity, undefined, 'GAFFER_BAD_REQUEST'],
    [Infinity, 120, 'GAFFER_BAD_REQUEST'],
    [NaN, undefined, 'GAFFER_BAD_REQUEST'],
    [1e306, undefined, 'GAFFER_TIMEOUT_TOO_LONG'], // 1e309 ms is Infinity
    [1e300, undefined, 'GAFFER_TIMEOUT_TOO_LONG'], // past what a timer can hold
    [MAX_TIMEOUT_MS / 1000, undefined, MAX_TIMEOUT_MS],
    [120, 120, 120_000],
    [120.0004, 120, 120_000], // the ceiling is checked on the converted value
    [120.001, 120, 'GAFFER_TIMEOUT_TOO_LONG'],
    [121, 120, 'GAFFER_TIMEOUT_TOO_LONG'],
    ['5', undefined, 5000],
    ['0.5', undefined, 500],
    ['0x10', undefined, 'GAFFER_BAD_REQUEST'],
    ['Infinity', undefined, 'GAFFER_BAD_REQUEST'],
    [' 5', undefined, 'GAFFER_BAD_REQUEST'],
    ['1e306', undefined, 'GAFFER_TIMEOUT_TOO_LONG'],
    [true, undefined, 'GAFFER_BAD_REQUEST'],
  ];
  for (const [given, ceiling, expected] of table) {
    test(`${String(given)} s, ceiling ${ceiling ?? 'none'} → ${expected}`, () => {
      assert.equal(
        outcome(() => timeoutMsOf(given, 300, ceiling)),
        expected,
      );
    });
  }
});

type Quantities = { cpu?: string; memory?: string };

describe("resources: within the type's declared ones, per-job types only", () => {
  const kube = (limits: Quantities, requests: Quantities = {}, gpus = 0) => ({
    resources: { requests, limits },
    gpus,
  });
  const perJob = {
    mode: 'per-job' as const,
    worker: { resources: { cpu: '2', memory: '4Gi' } },
    kubernetes: kube({}),
  };
  const onKube = {
    mode: 'per-job' as const,
    worker: {},
    kubernetes: kube({ cpu: '4', memory: '8Gi' }, { cpu: '1' }, 1),
  };
  const pool = { ...perJob, mode: 'pool' as const };
  const bare = { mode: 'per-job' as const, worker: {}, kubernetes: kube({}) };
  type Row = [string, unknown, ResourceCeiling, unknown];
  const table: Row[] = [
    ['absent', undefined, perJob, null],
    ['the seed: 2 cpus, 4Gi', { cpu: '2', memory: '4Gi' }, perJob, { cpu: '2', memory: '4Gi' }],
    ['less', { cpu: '500m', memory: '512Mi' }, perJob, { cpu: '500m', memory: '512Mi' }],
    ['cpu alone, as a number', { cpu: 1 }, perJob, { cpu: '1' }],
    ['over the worker resources', { cpu: '3' }, perJob, 'GAFFER_RESOURCES_TOO_LARGE'],
    ['4Gi = 4096Mi fits', { memory: '4096Mi' }, perJob, { memory: '4096Mi' }],
    ['4097Mi does not', { memory: '4097Mi' }, perJob, 'GAFFER_RESOURCES_TOO_LARGE'],
    [
      'up to the Kubernetes limit',
      { cpu: '4', memory: '8Gi' },
      onKube,
      { cpu: '4', memory: '8Gi' },
    ],
    ['a GPU the type has', { gpus: 1 }, onKube, { gpus: 1 }],
    ['two GPUs it has not', { gpus: 2 }, onKube, 'GAFFER_RESOURCES_TOO_LARGE'],
    ['no GPU asked', { gpus: 0 }, perJob, null],
    ['a type that declares none', { cpu: '1' }, bare, 'GAFFER_RESOURCES_TOO_LARGE'],
    ['a pool type', { cpu: '1' }, pool, 'GAFFER_BAD_REQUEST'],
    ['not a quantity', { cpu: 'two' }, perJob, 'GAFFER_BAD_REQUEST'],
    ['an unknown field', { disk: '1Gi' }, perJob, 'GAFFER_UNKNOWN_FIELD'],
    ['not an object', '2', perJob, 'GAFFER_BAD_REQUEST'],
    ['a fractional GPU', { gpus: 0.5 }, onKube, 'GAFFER_BAD_REQUEST'],
  ];
  for (const [name, given, type, expected] of table) {
    test(`${name} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(
        outcome(() => resourcesOf(given, type)),
        expected,
      );
    });
  }
});

describe('maxAttempts: an integer from 1 to 100', () => {
  const table: [unknown, number | string][] = [
    [undefined, 3],
    [1, 1],
    [100, 100],
    [0, 'GAFFER_BAD_REQUEST'],
    [101, 'GAFFER_BAD_REQUEST'],
    [1.5, 'GAFFER_BAD_REQUEST'],
    [1e10, 'GAFFER_BAD_REQUEST'],
    ['3', 3],
    ['0x5', 'GAFFER_BAD_REQUEST'],
    ['1e1', 'GAFFER_BAD_REQUEST'],
  ];
  for (const [given, expected] of table) {
    test(`${String(given)} → ${expected}`, () => {
      assert.equal(
        outcome(() => maxAttemptsOf(given, 3)),
        expected,
      );
    });
  }
});

describe('unknown fields are refused, each named', () => {
  test('startAt, delaySeconds and a misspelt priorty in one message', () => {
    const sub = { type: 't', startAt: 1, delaySeconds: 5, priorty: 3 };
    assert.throws(
      () => refuseUnknownFields(sub, SUBMISSION_FIELDS),
      (err: GafferError) => {
        assert.equal(err.code, 'GAFFER_UNKNOWN_FIELD');
        assert.equal(err.status, 400);
        for (const f of ['startAt', 'delaySeconds', 'priorty']) {
          assert.match(err.message, new RegExp(f));
        }
        assert.deepEqual(err.details, { fields: ['startAt', 'delaySeconds', 'priorty'] });
        return true;
      },
    );
  });
  test('every known field passes', () => {
    refuseUnknownFields(
      Object.fromEntries([...SUBMISSION_FIELDS].map((f) => [f, 1])),
      SUBMISSION_FIELDS,
    );
  });
});

describe('JSON values: what the HTTP parser refuses, and what a store cannot keep', () => {
  const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  const table: [string, unknown, string][] = [
    ['a plain object', { a: [1, 'x', null, true, { b: 2 }] }, 'ok'],
    ['nested to the limit', deep(MAX_JSON_DEPTH), 'ok'],
    ['nested past the limit', deep(MAX_JSON_DEPTH + 1), 'GAFFER_BAD_REQUEST'],
    ['a cycle', cyclic, 'GAFFER_BAD_REQUEST'],
    ['a __proto__ key', JSON.parse('{"a":{"__proto__":{"x":1}}}'), 'GAFFER_BAD_REQUEST'],
    ['constructor.prototype', { constructor: { prototype: { x: 1 } } }, 'GAFFER_BAD_REQUEST'],
    ['a constructor key alone', { constructor: 'fine' }, 'ok'],
    ['U+0000 in a string', { a: 'x\u0000y' }, 'GAFFER_BAD_REQUEST'],
    ['U+0000 in a key', { 'x\u0000': 1 }, 'GAFFER_BAD_REQUEST'],
    ['an unpaired surrogate', ['\ud800'], 'GAFFER_BAD_REQUEST'],
    ['a paired surrogate (an emoji)', ['\ud83d\ude00'], 'ok'],
    ['a bigint', { n: 10n }, 'GAFFER_BAD_REQUEST'],
    ['a function', [() => 1], 'GAFFER_BAD_REQUEST'],
    ['NaN', { n: NaN }, 'GAFFER_BAD_REQUEST'],
    ['an undefined member (left out, as JSON does)', { a: undefined }, 'ok'],
  ];
  for (const [name, value, expected] of table) {
    test(`${name} → ${expected}`, () => {
      assert.equal(
        outcome(() => (checkJsonValue(value, 'payload'), 'ok')),
        expected,
      );
    });
  }
});

describe('due time: runAt (a time with a zone, or epoch ms) or delay (seconds or a duration)', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const table: [{ runAt?: unknown; delay?: unknown }, number | string][] = [
    [{}, now],
    [{ runAt: '2026-12-07T12:00:03Z' }, now + 3000],
    [{ runAt: '2026-12-07T13:00:03+01:00' }, now + 3000],
    [{ runAt: '2026-12-07T12:00:03.250Z' }, now + 3250],
    [{ runAt: now + 5000 }, now + 5000],
    [{ runAt: String(now + 5000) }, now + 5000],
    [{ runAt: '2020-01-01T00:00:00Z' }, now], // in the past: runs now
    [{ runAt: now - 1 }, now],
    [{ runAt: '2026-12-07T12:00:03' }, 'GAFFER_DELAY_INVALID'], // no zone: ambiguous
    [{ runAt: Math.floor(now / 1000) }, 'GAFFER_DELAY_INVALID'], // epoch seconds: ambiguous
    [{ runAt: 'tomorrow' }, 'GAFFER_DELAY_INVALID'],
    [{ runAt: '2026-13-45T12:00:00Z' }, 'GAFFER_DELAY_INVALID'],
    [{ runAt: '2030-01-01T00:00:00Z' }, 'GAFFER_DELAY_INVALID'], // past MAX_DELAY_MS
    [{ runAt: NaN }, 'GAFFER_DELAY_INVALID'],
    [{ runAt: now + 0.5 }, 'GAFFER_DELAY_INVALID'],
    [{ delay: 3 }, now + 3000],
    [{ delay: '3' }, now + 3000],
    [{ delay: 0.25 }, now + 250],
    [{ delay: '500ms' }, now + 500],
    [{ delay: '30s' }, now + 30_000],
    [{ delay: '5m' }, now + 300_000],
    [{ delay: '1.5h' }, now + 5_400_000],
    [{ delay: '1d' }, now + 86_400_000],
    [{ delay: 0 }, now],
    [{ delay: MAX_DELAY_MS / 1000 }, now + MAX_DELAY_MS],
    [{ delay: MAX_DELAY_MS / 1000 + 1 }, 'GAFFER_DELAY_INVALID'],
    [{ delay: '400d' }, 'GAFFER_DELAY_INVALID'],
    [{ delay: -1 }, 'GAFFER_DELAY_INVALID'],
    [{ delay: NaN }, 'GAFFER_DELAY_INVALID'],
    [{ delay: Infinity }, 'GAFFER_DELAY_INVALID'],
    [{ delay: '5 minutes' }, 'GAFFER_DELAY_INVALID'],
    [{ delay: '0x10' }, 'GAFFER_DELAY_INVALID'],
    [{ delay: true }, 'GAFFER_DELAY_INVALID'],
    [{ delay: '5s', runAt: now + 5000 }, 'GAFFER_DELAY_INVALID'], // both
  ];
  for (const [given, expected] of table) {
    test(`${JSON.stringify(given)} → ${expected}`, () => {
      assert.equal(
        outcome(() => runAtOf(given, now)),
        expected,
      );
    });
  }
});

describe('expiry: expiresAt (a time) or expireIn (a duration from submission), after the due time', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const table: [{ expiresAt?: unknown; expireIn?: unknown }, number, number | null | string][] = [
    [{}, now, null],
    [{ expireIn: '10s' }, now, now + 10_000],
    [{ expireIn: 10 }, now, now + 10_000],
    [{ expiresAt: '2026-12-07T12:01:00Z' }, now, now + 60_000],
    [{ expiresAt: now + 1 }, now, now + 1],
    [{ expiresAt: now }, now, 'GAFFER_EXPIRY_INVALID'], // could never start
    [{ expireIn: '10s' }, now + 10_000, 'GAFFER_EXPIRY_INVALID'], // not after its due time
    [{ expireIn: '10s' }, now + 5_000, now + 10_000],
    [{ expiresAt: '2020-01-01T00:00:00Z' }, now, 'GAFFER_EXPIRY_INVALID'],
    [{ expiresAt: '12:00' }, now, 'GAFFER_EXPIRY_INVALID'],
    [{ expireIn: '2y' }, now, 'GAFFER_EXPIRY_INVALID'],
    [{ expireIn: '5s', expiresAt: now + 5000 }, now, 'GAFFER_EXPIRY_INVALID'], // both
  ];
  for (const [given, runAt, expected] of table) {
    test(`${JSON.stringify(given)}, due at now+${runAt - now} → ${expected}`, () => {
      assert.equal(
        outcome(() => expiresAtOf(given, now, runAt)),
        expected,
      );
    });
  }
});
