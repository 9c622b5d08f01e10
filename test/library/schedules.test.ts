import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createGaffer } from 'gaffer';

/**
 * A cron schedule of the config fires in a running gaffer (the leader's duty beside the
 * autoscaler): one job per tick, each with its tick's idempotency key, run to the end.
 */
test('a schedule every second submits one job per tick, each run', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-schedules-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gaffer = await createGaffer({
    config: {
      store: { dataDir: dir, synchronous: 'NORMAL' },
      schedules: { heartbeat: { cron: '* * * * * *', submit: { type: 'beat', payload: {} } } },
    },
    jobs: { beat: { handler: () => 'ok' } },
  });
  t.after(() => gaffer.close());
  let succeeded = 0;
  await new Promise<void>((resolve) => {
    gaffer.on('job:succeeded', () => {
      if (++succeeded === 3) resolve();
    });
  });
  const { jobs } = await gaffer.jobs({ type: 'beat' });
  const keys = jobs.map((j) => j.idempotencyKey ?? '');
  assert.ok(keys.length >= 3);
  assert.equal(new Set(keys).size, keys.length, 'one job per tick');
  for (const key of keys) {
    assert.match(key, /^schedule:heartbeat:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  }
});
