import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { millicores, quantity } from '../../src/config/quantity.ts';
import { admit, type AdmissionInput } from '../../src/executors/kubernetes/admission.ts';

const GiB = 2 ** 30;
const FREE = { cpu: 8000, memory: 32 * GiB, gpus: 0, pods: 110 };
const base: AdmissionInput = {
  free: FREE,
  perJob: { cpu: 2000, memory: 4 * GiB, gpus: 0, pods: 1 },
  waiting: 100,
  inFlight: 0,
  typeCap: null,
  totalInFlight: 0,
  totalCap: null,
  unscheduled: 0,
  maxUnscheduled: null,
};

const table: [string, Partial<AdmissionInput>, number][] = [
  ['cpu binds: 8 cores / 2 per job', {}, 4],
  ['memory binds', { free: { ...FREE, memory: 10 * GiB } }, 2],
  ['pod slots bind', { free: { ...FREE, pods: 1 } }, 1],
  [
    'gpus bind for a GPU type',
    { perJob: { ...base.perJob, gpus: 1 }, free: { ...FREE, gpus: 3 } },
    3,
  ],
  ['no GPUs free: none', { perJob: { ...base.perJob, gpus: 1 } }, 0],
  ['the type cap binds', { typeCap: 3, inFlight: 1 }, 2],
  ['the overall cap binds', { totalCap: 10, totalInFlight: 9 }, 1],
  ['over a cap: none, never negative', { typeCap: 2, inFlight: 5 }, 0],
  ['fewer waiting than room', { waiting: 1 }, 1],
  ['pods waiting for a node bind', { maxUnscheduled: 20, unscheduled: 18 }, 2],
  ['as many waiting as allowed: none', { maxUnscheduled: 20, unscheduled: 25 }, 0],
  ['no node reads: the scheduler signal and caps', { free: null, maxUnscheduled: 7 }, 7],
  [
    'no requests: caps and waiting decide',
    { perJob: { cpu: 0, memory: 0, gpus: 0, pods: 1 } },
    100,
  ],
];
for (const [name, patch, expected] of table) {
  test(`admission: ${name}`, () => assert.equal(admit({ ...base, ...patch }), expected));
}

test('admission never exceeds the free capacity, a cap or the waiting count (property)', () => {
  const res = fc.record({
    cpu: fc.nat(64_000),
    memory: fc.nat(256 * GiB),
    gpus: fc.nat(8),
    pods: fc.nat(500),
  });
  fc.assert(
    fc.property(
      res,
      res.map((r) => ({ ...r, pods: 1 })),
      fc.nat(1000),
      fc.nat(50),
      fc.option(fc.nat(50)),
      (free, perJob, waiting, inFlight, typeCap) => {
        const n = admit({ ...base, free, perJob, waiting, inFlight, typeCap });
        assert.ok(n >= 0 && n <= waiting);
        if (typeCap !== null) assert.ok(n === 0 || inFlight + n <= typeCap);
        for (const k of ['cpu', 'memory', 'gpus', 'pods'] as const) {
          assert.ok(n * perJob[k] <= free[k]!);
        }
      },
    ),
  );
});

test('Kubernetes quantities', () => {
  assert.equal(millicores('500m'), 500);
  assert.equal(millicores('2'), 2000);
  assert.equal(millicores('1.5'), 1500);
  assert.equal(quantity('4Gi'), 4 * GiB);
  assert.equal(quantity('512Mi'), 512 * 2 ** 20);
  assert.equal(quantity('1G'), 1e9);
  assert.equal(quantity('110'), 110);
  assert.throws(() => quantity('4 GB'), /not a Kubernetes quantity/);
});
