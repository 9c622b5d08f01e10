import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gafferDir, isAlive, spawnGaffer, untilEvent } from '../helpers/process.ts';

type JobView = { id: string; state: string; attempt: number };

test('kill -9 of `gaffer up` with jobs queued and running: after a restart nothing is lost', async () => {
  const { args } = gafferDir('gaffer-restart-', [
    'autoscaler: { intervalMs: 100 }',
    'jobTypes:',
    '  work:',
    '    worker: { handler: test/e2e/fixtures/handlers.ts#blockFirst }',
    '    retry: { maxAttempts: 3, backoffMs: 0 }',
    '    scaling: { min: 0, max: 1 }',
  ]);
  const first = await spawnGaffer(args);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const { job } = await api<{ job: JobView }>(first.url, '/v1/jobs', {
      type: 'work',
      payload: { block: i === 0 },
    });
    ids.push(job.id);
  }
  await untilEvent(
    first.url,
    async () =>
      (await api<{ job: JobView }>(first.url, `/v1/jobs/${ids[0]}`)).job.state === 'running',
  );
  const { workers } = await api<{ workers: { pid: number }[] }>(first.url, '/v1/workers');
  first.child.kill('SIGKILL');
  await first.exited;

  const second = await spawnGaffer(args);
  try {
    const jobs = async () =>
      Promise.all(
        ids.map(async (id) => (await api<{ job: JobView }>(second.url, `/v1/jobs/${id}`)).job),
      );
    await untilEvent(second.url, async () => (await jobs()).every((j) => j.state === 'succeeded'));
    const end = await jobs();
    assert.equal(end[0]!.attempt, 2, 'the running job was retried');
    assert.ok(
      end.slice(1).every((j) => j.attempt === 1),
      'queued jobs ran once',
    );
    for (const w of workers) {
      assert.equal(isAlive(w.pid), false, `worker ${w.pid} of the killed gaffer is gone`);
    }
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
