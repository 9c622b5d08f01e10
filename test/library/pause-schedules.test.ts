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

test("a schedule's expireIn: its job expires that long after it was submitted", async (t) => {
  const gaffer = await createGaffer({
    config: {
      store: { dataDir: dataDir(t), synchronous: 'NORMAL' },
      schedules: { fresh: { cron: '0 0 1 1 *', submit: { type: 'held', expireIn: '5m' } } },
    },
    jobs: { held: { scaling: { max: 0 }, handler: () => null } },
  });
  t.after(() => gaffer.close());
  const job = await gaffer.triggerSchedule('fresh');
  assert.equal(job.expiresAt! - job.createdAt, 300_000);
});

test('waiting(id) says why a job waits (delayed, paused, rate_limit, key_limit); jobs({ state: "delayed" }) lists the delayed', async (t) => {
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const gaffer = await createGaffer({
    config: { store: { dataDir: dataDir(t), synchronous: 'NORMAL' } },
    jobs: {
      echo: { handler: (ctx) => ctx.payload },
      mailer: { rateLimit: { starts: 1, perSeconds: 3600 }, handler: () => 'sent' },
      tenant: {
        keyLimit: { key: 'payload.tenant', running: 1 },
        scaling: { max: 2 },
        handler: async () => {
          started();
          await released;
          return 'synced';
        },
      },
    },
  });
  t.after(async () => {
    release();
    await gaffer.close();
  });
  const later = await gaffer.submit('echo', { n: 1 }, { delay: '1h' });
  const now = await gaffer.submit('echo', { n: 2 });
  await now.done();
  const delayed = await gaffer.waiting(later.id);
  assert.equal(delayed?.reason, 'delayed');
  assert.equal(delayed?.estimatedStartAt, later.job.runAt);
  assert.deepEqual(
    (await gaffer.jobs({ state: 'delayed' })).jobs.map((j) => j.id),
    [later.id],
  );
  assert.equal(await gaffer.waiting(now.id), null, 'an ended job waits for nothing');

  await gaffer.pause('echo');
  const paused = await gaffer.submit('echo', { n: 3 });
  assert.equal((await gaffer.waiting(paused.id))?.reason, 'paused');

  const first = await gaffer.submit('mailer', null);
  await first.done();
  const second = await gaffer.submit('mailer', null);
  const rate = await gaffer.waiting(second.id);
  assert.equal(rate?.reason, 'rate_limit');
  assert.ok(rate.estimatedStartAt! > Date.now(), 'with the time the window frees a slot');

  await gaffer.submit('tenant', { tenant: 'acme' });
  await running;
  const held = await gaffer.submit('tenant', { tenant: 'acme' });
  const key = await gaffer.waiting(held.id);
  assert.equal(key?.reason, 'key_limit');
  assert.match(key.message, /"acme"/);
  await assert.rejects(gaffer.waiting('nope'), { code: 'GAFFER_JOB_NOT_FOUND' });
});
