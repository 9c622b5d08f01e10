import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GafferError } from '../../src/errors.ts';
import {
  checkJsonValue,
  MAX_JSON_DEPTH,
  MAX_TIMEOUT_MS,
  maxAttemptsOf,
  PRIORITY_LIMIT,
  priorityOf,
  refuseUnknownFields,
  resourcesOf,
  type ResourceCeiling,
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
  test('runAt, delaySeconds and a misspelt priorty in one message', () => {
    const sub = { type: 't', runAt: 1, delaySeconds: 5, priorty: 3 };
    assert.throws(
      () => refuseUnknownFields(sub, SUBMISSION_FIELDS),
      (err: GafferError) => {
        assert.equal(err.code, 'GAFFER_UNKNOWN_FIELD');
        assert.equal(err.status, 400);
        for (const f of ['runAt', 'delaySeconds', 'priorty']) {
          assert.match(err.message, new RegExp(f));
        }
        assert.deepEqual(err.details, { fields: ['runAt', 'delaySeconds', 'priorty'] });
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
