import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * Flow control through a real gaffer: real worker processes, the real store, and in broker mode
 * the embedded broker — a delivered job the rate limit holds back goes back to the broker and runs
 * when the window frees. Asserted: the store's start records (gaffer's clock at each claim).
 */

const gaffers: TestGaffer[] = [];
after(async () => {
  for (const g of gaffers) await g.close();
});

for (const broker of [null, { kind: 'embedded' }]) {
  test(`${broker ? 'broker mode' : 'embedded store'}: 3 starts per second, never a 4th within a second`, async () => {
    const g = await startGaffer({
      ...(broker ? { broker } : {}),
      autoscaler: { intervalMs: 100 },
      jobTypes: {
        row: {
          queue: `flow-rows-${process.pid}-${broker ? 'b' : 'e'}`,
          worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
          concurrency: 4,
          rateLimit: { starts: 3, perSeconds: 1 },
          scaling: { min: 0, max: 2 },
        },
      },
    });
    gaffers.push(g);
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type: 'row', payload: { id: String(i) } },
      });
      assert.equal(res.statusCode, 201, res.body);
      ids.push((res.json() as { job: { id: string } }).job.id);
    }
    await until(g, async () => (await countByState(g, 'row'))['succeeded'] === 9, [
      'job:succeeded',
    ]);
    const jobs = await Promise.all(ids.map(async (id) => (await g.orch.store.get(id))!));
    const starts = jobs.map((j) => j.startedAt!).sort((a, b) => a - b);
    for (let i = 0; i + 3 < starts.length; i++) {
      assert.ok(
        starts[i + 3]! - starts[i]! >= 1000,
        `starts ${i}, ${i + 3}: ${starts[i + 3]! - starts[i]!} ms`,
      );
    }
    assert.ok(
      jobs.every((j) => j.attempt === 1),
      'a job held back never spent an attempt',
    );
  });
}

test('a paused type takes submissions, starts nothing and scales to nothing; on resume its backlog runs', async () => {
  const g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      row: {
        queue: `flow-pause-${process.pid}`,
        worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
        scaling: { min: 0, max: 2 },
      },
    },
  });
  gaffers.push(g);
  await g.orch.service.pause('row');
  for (let i = 0; i < 3; i++) {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'row', payload: { id: String(i) } },
    });
    assert.equal(res.statusCode, 201, res.body);
  }
  await g.orch.loop.tick();
  const decision = g.orch.loop.lastDecisions().get('row');
  assert.equal(decision?.to, 0, `a paused backlog is no demand: ${decision?.reason}`);
  assert.equal(g.orch.gateway.workers('row').length, 0, 'no worker started for it');
  assert.deepEqual(await countByState(g, 'row'), { queued: 3 });

  await g.orch.service.resume('row');
  await until(g, async () => (await countByState(g, 'row'))['succeeded'] === 3, ['job:succeeded']);
});
