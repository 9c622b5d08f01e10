import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

let g: TestGaffer;
before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
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

test('kill -9 of a worker mid-job: the job is retried on a new worker and completes', async () => {
  const res = await g.app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { type: 'stuck', payload: {} },
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().job.id as string;

  await g.orch.events.once('job:started', ({ job }) => job.id === id);
  const [worker] = g.orch.gateway.workers('stuck');
  await until(g, () => g.orch.gateway.workers('stuck')[0]?.pid != null, ['worker:state']);
  process.kill(g.orch.gateway.workers('stuck')[0]!.pid!, 'SIGKILL');

  await until(g, async () => (await g.orch.service.get(id)).state === 'succeeded', [
    'job:succeeded',
    'job:retrying',
  ]);
  const job = await g.orch.service.get(id);
  assert.equal(job.attempt, 2);
  assert.deepEqual(job.result, { attempt: 2 });
  const events = await g.orch.store.workerEvents({ type: 'stuck', limit: 100 });
  assert.ok(
    events.some((e) => e.event === 'crashed' && e.workerId === worker!.id && e.active === 1),
  );
});
