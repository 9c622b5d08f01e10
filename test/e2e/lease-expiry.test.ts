import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

let g: TestGaffer;
before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    leases: { ttlMs: 10_000, sweepMs: 1_000 },
    jobTypes: {
      stuck: {
        worker: { handler: 'test/e2e/fixtures/handlers.ts#stuckOnce' },
        retry: { maxAttempts: 3, backoffMs: 0 },
        scaling: { min: 0, max: 1 },
      },
    },
  });
});
after(() => g.close());

test('a worker paused past its lease: the job is re-leased, the stale holder is refused, one end', async () => {
  const { job } = (
    await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'stuck' } })
  ).json();
  await g.orch.events.once('job:started', ({ job: j }) => j.id === job.id);
  await until(g, () => g.orch.gateway.workers('stuck')[0]?.pid != null, ['worker:state']);
  const pid = g.orch.gateway.workers('stuck')[0]!.pid!;
  const firstToken = (await g.orch.service.get(job.id)).leaseToken;

  process.kill(pid, 'SIGSTOP'); // no heartbeat from here on
  try {
    g.clock.advance(10_001); // past the lease, on gaffer's clock
    assert.equal(await g.orch.sweep(), 1, 'the expired lease was found');
    const requeued = await g.orch.service.get(job.id);
    assert.equal(requeued.state, 'queued');
    assert.equal(requeued.error?.class, 'infrastructure');
  } finally {
    process.kill(pid, 'SIGCONT');
  }

  // The resumed worker is told its job is gone; what it reports for attempt 1 is refused. It then
  // claims again and runs attempt 2 under a new token.
  await until(g, async () => (await g.orch.service.get(job.id)).state === 'succeeded', [
    'job:succeeded',
  ]);
  const done = await g.orch.service.get(job.id);
  assert.equal(done.attempt, 2);
  assert.deepEqual(done.result, { attempt: 2 });
  assert.ok(done.leaseToken! > firstToken!, 'a later lease has a larger fencing token');
  const stale = await g.orch.store.finish([
    {
      id: job.id,
      token: firstToken!,
      now: g.clock.now(),
      to: 'failed',
      error: { class: 'application', message: 'late' },
    },
  ]);
  assert.deepEqual(stale, [], 'a write with the old token changes nothing');
  assert.equal((await g.orch.service.get(job.id)).state, 'succeeded');
});
