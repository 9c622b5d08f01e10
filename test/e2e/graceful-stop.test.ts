import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { api, gafferDir, spawnGaffer, untilEvent } from '../helpers/process.ts';

type JobView = { id: string; state: string; attempt: number };

test('SIGTERM to `gaffer up` lets the running job finish, then exits 0', async () => {
  const { args, dataDir } = gafferDir('gaffer-drain-', [
    'autoscaler: { intervalMs: 100 }',
    'jobTypes:',
    '  work:',
    // The job's own work takes 5 s, so the signal lands while it runs even on a loaded machine
    // (the test waits for `running`; a job that ended first would leave it waiting).
    "    worker: { handler: test/e2e/fixtures/handlers.ts#row, env: { ROW_DELAY_MS: '5000' } }",
    '    scaling: { min: 0, max: 1 }',
  ]);
  const gaffer = await spawnGaffer(args);
  const { job } = await api<{ job: JobView }>(gaffer.url, '/v1/jobs', {
    type: 'work',
    payload: { id: '1' },
  });
  await untilEvent(gaffer.url, async () => {
    const { state } = (await api<{ job: JobView }>(gaffer.url, `/v1/jobs/${job.id}`)).job;
    if (state !== 'queued' && state !== 'running') throw new Error(`ended (${state}) unobserved`);
    return state === 'running';
  });
  gaffer.child.kill('SIGTERM');
  assert.equal(await gaffer.exited, 0);

  const store = createSqliteStore({ path: path.join(dataDir, 'gaffer.db'), synchronous: 'FULL' });
  try {
    const after = await store.get(job.id);
    assert.deepEqual(
      [after?.state, after?.attempt],
      ['succeeded', 1],
      'finished once, not retried',
    );
    const events = await store.workerEvents({ type: 'work', limit: 20 });
    assert.ok(
      events.every((e) => e.event !== 'crashed'),
      'the worker was drained, not killed',
    );
  } finally {
    await store.close();
  }
});
