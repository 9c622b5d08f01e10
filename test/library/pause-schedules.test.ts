import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createGaffer, GafferError } from 'gaffer';

/** Pausing a type and managing cron schedules from code: the same services as the HTTP API. */

function dataDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-lib-front-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("pause holds a type's jobs (the job waits, nothing starts); resume runs them", async (t) => {
  const gaffer = await createGaffer({
    config: { store: { dataDir: dataDir(t), synchronous: 'NORMAL' } },
    jobs: { echo: { handler: (ctx) => ctx.payload } },
  });
  t.after(() => gaffer.close());
  await gaffer.pause('echo');
  const handle = await gaffer.submit('echo', { n: 1 });
  assert.equal((await gaffer.job(handle.id)).state, 'queued');
  await gaffer.resume('echo');
  assert.deepEqual(await handle.result(), { n: 1 });
  await assert.rejects(gaffer.pause('nope'), { code: 'GAFFER_UNKNOWN_TYPE' });
});

test('schedules from code: declare, list, trigger, pause, resume, delete', async (t) => {
  const gaffer = await createGaffer({
    config: {
      store: { dataDir: dataDir(t), synchronous: 'NORMAL' },
      schedules: { yearly: { cron: '0 0 1 1 *', submit: { type: 'echo', payload: 'y' } } },
    },
    jobs: { echo: { handler: (ctx) => ctx.payload } },
  });
  t.after(() => gaffer.close());
  const { schedule, created } = await gaffer.putSchedule('hourly', {
    cron: '0 * * * *',
    submit: { type: 'echo', payload: 'h' },
  });
  assert.equal(created, true);
  assert.deepEqual(
    [schedule.source, schedule.paused, schedule.definition.overlap],
    ['api', false, 'allow'],
  );
  assert.deepEqual(
    (await gaffer.schedules()).map((s) => [s.name, s.source]),
    [
      ['hourly', 'api'],
      ['yearly', 'config'],
    ],
  );
  const job = await gaffer.triggerSchedule('yearly');
  assert.match(job.idempotencyKey ?? '', /^schedule:yearly:manual:/);
  assert.equal((await gaffer.wait(job.id)).state, 'succeeded');
  assert.equal((await gaffer.schedule('yearly')).lastRun, null, 'a trigger is no tick');
  assert.equal((await gaffer.pauseSchedule('yearly')).paused, true);
  assert.equal((await gaffer.schedule('yearly')).paused, true);
  assert.equal((await gaffer.resumeSchedule('yearly')).paused, false);
  await assert.rejects(gaffer.deleteSchedule('yearly'), { code: 'GAFFER_SCHEDULE_CONFIGURED' });
  await assert.rejects(
    gaffer.putSchedule('bad', { cron: '61 * * * *', submit: { type: 'echo' } }),
    (err: unknown) => err instanceof GafferError && err.code === 'GAFFER_SCHEDULE_INVALID',
  );
  await gaffer.deleteSchedule('hourly');
  await assert.rejects(gaffer.schedule('hourly'), { code: 'GAFFER_SCHEDULE_NOT_FOUND' });
});
