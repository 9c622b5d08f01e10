import assert from 'node:assert/strict';
import os from 'node:os';
import { after, test } from 'node:test';
import {
  localRoom,
  machineCapacity,
  perWorker,
  workerShare,
} from '../../src/executors/local-process/capacity.ts';
import type { ScalingDecision } from '../../src/domain/events.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

const GiB = 2 ** 30;
const capacity = { cpu: 4000, memory: 8 * GiB };

const table: [string, Parameters<typeof localRoom>[0], number | null][] = [
  ['nothing declared: no limit', { capacity, perWorker: perWorker({}), held: capacity }, null],
  [
    'an idle machine: CPUs ÷ one worker',
    { capacity, perWorker: perWorker({ cpu: '1' }), held: { cpu: 0, memory: 0 } },
    4,
  ],
  [
    'what others hold is taken off',
    { capacity, perWorker: perWorker({ cpu: '500m' }), held: { cpu: 3000, memory: 0 } },
    2,
  ],
  [
    'the scarcer resource decides',
    {
      capacity,
      perWorker: perWorker({ cpu: '1', memory: '4Gi' }),
      held: { cpu: 0, memory: 2 * GiB },
    },
    1,
  ],
  [
    'overcommitted: none, never negative',
    { capacity, perWorker: perWorker({ cpu: '1' }), held: { cpu: 5000, memory: 0 } },
    0,
  ],
];
for (const [name, input, expected] of table) {
  test(`localRoom: ${name}`, () => assert.equal(localRoom(input), expected));
}

test("workerShare: a per-job worker holds its job's request, else its type's", () => {
  const type = { cpu: '2', memory: '4Gi' };
  assert.deepEqual(workerShare(type, null), { cpu: 2000, memory: 4 * GiB });
  assert.deepEqual(workerShare(type, { cpu: '500m' }), { cpu: 500, memory: 4 * GiB });
  assert.deepEqual(workerShare(type, { cpu: '1', memory: '1Gi' }), { cpu: 1000, memory: GiB });
  assert.deepEqual(workerShare(undefined, {}), { cpu: 0, memory: 0 });
});

test('machineCapacity: executor.local, else this machine', () => {
  assert.deepEqual(machineCapacity({ cpus: '2', memory: '1Gi' }), { cpu: 2000, memory: GiB });
  assert.deepEqual(machineCapacity({}), {
    cpu: os.availableParallelism() * 1000,
    memory: os.totalmem(),
  });
});

let g: TestGaffer | undefined;
after(() => g?.close());

// The autoscaler's resource-aware limit on the real local executor: a type whose worker takes a
// whole CPU on a machine given two gets two workers, whatever its backlog and `scaling.max`; the
// decisions say why, and a queued job answers `capacity`.
test('a type declaring worker.resources gets only the workers executor.local fits', async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 50 },
    executor: { local: { cpus: '2' } },
    jobTypes: {
      heavy: {
        worker: { handler: 'test/e2e/fixtures/handlers.ts#blockFirst', resources: { cpu: '1' } },
        concurrency: 1,
        scaling: { min: 0, max: 5, threshold: 1, burst: 5, idleSeconds: 1 },
      },
    },
  });
  const gaffer = g;
  let peak = 0;
  const decisions: ScalingDecision[] = [];
  gaffer.orch.events.on('worker:state', () => {
    peak = Math.max(peak, gaffer.orch.gateway.workers('heavy').length);
  });
  gaffer.orch.events.on('scaler:decision', ({ decision }) => decisions.push(decision));
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await gaffer.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'heavy', payload: { block: true } },
    });
    assert.equal(res.statusCode, 201, res.body);
    ids.push(res.json().job.id);
  }
  await until(
    gaffer,
    () => gaffer.orch.gateway.workers('heavy').filter((w) => w.state === 'busy').length === 2,
    ['worker:state'],
  );
  // More ticks with both busy and two jobs ready: the policy holds at the limit.
  for (let i = 0; i < 3; i++) await gaffer.orch.loop.tick();
  assert.equal(peak, 2, 'never more workers than two CPUs fit');
  assert.deepEqual(
    decisions.map((d) => [d.from, d.to]),
    [[0, 2]],
    'one scale-out, straight to the limit',
  );
  assert.match(decisions[0]!.reason, /max 2 \(executor room\)/);
  const hold = gaffer.orch.loop.lastDecisions().get('heavy')!;
  assert.match(hold.reason, /^hold at 2: ready 2, in flight 2, .*max 2 \(executor room\)/);

  const queued = [];
  for (const id of ids) {
    const { job } = (await gaffer.app.inject({ url: `/v1/jobs/${id}` })).json();
    if (job.state === 'queued') queued.push(job.waiting);
  }
  assert.equal(queued.length, 2);
  for (const w of queued) {
    assert.equal(w.reason, 'capacity');
    assert.match(w.message, /no room for another worker/);
  }
  for (const id of ids) {
    const res = await gaffer.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    assert.equal(res.statusCode, 200, res.body);
  }
});

let h: TestGaffer | undefined;
after(() => h?.close());

// A job's own request is what its per-job worker holds of executor.local: with three CPUs and a
// type declaring two, a job asking one leaves room for a second worker of the type.
test("a per-job worker holds its job's resource request, not its type's", async () => {
  h = await startGaffer({
    autoscaler: { intervalMs: 50 },
    executor: { local: { cpus: '3' } },
    jobTypes: {
      big: {
        mode: 'per-job',
        worker: { handler: 'test/e2e/fixtures/handlers.ts#blockFirst', resources: { cpu: '2' } },
        scaling: { min: 0, max: 5, threshold: 1, burst: 1, idleSeconds: 1 },
      },
    },
  });
  const gaffer = h;
  const submit = async (body: object) => {
    const res = await gaffer.app.inject({ method: 'POST', url: '/v1/jobs', payload: body });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().job as { id: string; resources: unknown };
  };
  const small = await submit({ type: 'big', payload: { block: true }, resources: { cpu: '1' } });
  assert.deepEqual(small.resources, { cpu: '1' });
  await until(gaffer, () => gaffer.orch.gateway.workers('big').some((w) => w.state === 'busy'), [
    'worker:state',
  ]);
  const whole = await submit({ type: 'big', payload: { block: true } });
  await until(
    gaffer,
    () => gaffer.orch.gateway.workers('big').filter((w) => w.state === 'busy').length === 2,
    ['worker:state'],
  );
  const over = await gaffer.app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { type: 'big', resources: { cpu: '3' } },
  });
  assert.equal(over.statusCode, 422, over.body);
  assert.equal(over.json().error.code, 'GAFFER_RESOURCES_TOO_LARGE');
  for (const id of [small.id, whole.id]) {
    const res = await gaffer.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    assert.equal(res.statusCode, 200, res.body);
  }
});
