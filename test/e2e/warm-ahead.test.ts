import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

// Warming ahead of a known due time, through a real gaffer with local workers that take
// STARTUP_MS to start: once the autoscaler has measured one start-up, a job submitted with a runAt
// some seconds ahead gets its worker started one start-up delay before it is due (the decision says
// so), so the job finds a worker ready instead of waiting for one to start.
const TYPE = 'warm';
const STARTUP_MS = 2_000;
const AHEAD_MS = 8_000;
let g: TestGaffer | undefined;
after(() => g?.close());

test('a job due 8 s ahead finds a worker started ahead of its due time', async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 200 },
    jobTypes: {
      [TYPE]: {
        worker: {
          handler: 'test/e2e/fixtures/slow-start.ts#row',
          env: { STARTUP_DELAY_MS: String(STARTUP_MS) },
        },
        scaling: { min: 0, max: 2, idleSeconds: 1, scaleToZeroSeconds: 1 },
      },
    },
  });
  const gaffer = g;
  const submit = async (payload: unknown, runAt?: number) => {
    const res = await gaffer.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: TYPE, payload, ...(runAt === undefined ? {} : { runAt }) },
    });
    assert.equal(res.statusCode, 201, res.body);
    return (res.json() as { job: { id: string; runAt: number } }).job;
  };
  const succeeded = (n: number) =>
    until(gaffer, async () => (await countByState(gaffer, TYPE))['succeeded'] === n, [
      'job:succeeded',
    ]);

  // One cold start: the autoscaler measures the start-up delay, then the pool goes back to zero.
  await submit({ id: 'first' });
  await succeeded(1);
  await until(
    gaffer,
    () => gaffer.orch.gateway.workers(TYPE).every((w) => w.state !== 'starting'),
    ['worker:state'],
  );
  // Past the rate window on gaffer's clock: the first arrival no longer holds a worker.
  gaffer.clock.advance(61_000);
  gaffer.orch.loop.poke();
  await until(gaffer, () => gaffer.orch.gateway.workers(TYPE).length === 0, [
    'worker:stopped',
    'scaler:decision',
  ]);

  const due = await submit({ id: 'ahead' }, gaffer.clock.now() + AHEAD_MS);
  await succeeded(2);

  const decisions = await gaffer.orch.store.decisions({ type: TYPE, limit: 100 });
  const warm = decisions.find((d) =>
    /^0 → 1: 1 job due at \d\d:\d\d:\d\d, start-up ~/.test(d.reason),
  );
  assert.ok(warm, `a decision warms ahead: ${decisions.map((d) => d.reason).join(' | ')}`);
  assert.ok(warm.at < due.runAt, `decided at ${warm.at}, before the due time ${due.runAt}`);
  assert.equal(warm.inputs['dueSoon'], 1);
  const measured = (warm.inputs['leadMs'] ?? 0) - 200;
  assert.ok(measured >= STARTUP_MS, `the lead is the measured start-up (${measured} ms) + a tick`);

  await gaffer.orch.gateway.recorded();
  const events = await gaffer.orch.store.workerEvents({ type: TYPE, limit: 100 });
  const started = events.filter((e) => e.event === 'started').sort((a, b) => a.at - b.at);
  const ahead = started.at(-1);
  assert.ok(ahead && ahead.at >= warm.at, 'a worker started on the warm decision');
  assert.ok(ahead.at < due.runAt, 'and before the job was due');
  assert.ok(started[1]!.at < due.runAt, 'the second worker started before the job was due');

  const res = await gaffer.app.inject({ method: 'GET', url: `/v1/jobs/${due.id}` });
  const job = (res.json() as { job: { startedAt: number; runAt: number } }).job;
  assert.ok(job.startedAt >= job.runAt, 'not started before it was due');
  assert.ok(
    job.startedAt - job.runAt < STARTUP_MS,
    `waited ${job.startedAt - job.runAt} ms after due, less than one start-up (${STARTUP_MS} ms)`,
  );
});
