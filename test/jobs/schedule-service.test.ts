import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ScheduleConfig } from '../../src/config/schema.ts';
import { ScheduleRunner, tickKey } from '../../src/schedules/runner.ts';
import { manualKey, ScheduleService } from '../../src/schedules/service.ts';
import { jobsHarness, T0, type JobsHarness } from '../helpers/jobs.ts';

/** Every second, submitting an echo job: T0 is a whole second, so T0 + n s are its ticks. */
const everySecond: ScheduleConfig = {
  cron: '* * * * * *',
  submit: { type: 'echo', payload: { from: 'schedule' } },
  missed: 'skip',
  overlap: 'allow',
  paused: false,
};
const sec = (n: number) => T0 + n * 1000;

/**
 * The schedule service beside the runner, on one store and a manual clock: what the front ends
 * show and do agrees with what the runner fires.
 */
describe('schedule service', () => {
  let h: JobsHarness;
  let schedules: Record<string, ScheduleConfig>;
  let service: ScheduleService;
  let runner: ScheduleRunner;
  beforeEach(() => {
    h = jobsHarness();
    schedules = {};
    const configured = () => schedules;
    service = new ScheduleService({
      store: h.store,
      jobs: h.service,
      clock: h.clock,
      configured,
      catalog: () => ({ names: () => ['echo'] }),
    });
    runner = new ScheduleRunner({
      store: h.store,
      jobs: h.service,
      clock: h.clock,
      configured,
      log: h.log,
    });
  });
  afterEach(async () => {
    await h.close();
  });
  const fired = async () => (await runner.pass()).flatMap((o) => o.fired.map((f) => f.tick));

  test('lists the next run, then the last run and its job as the runner fires', async () => {
    schedules = { every: everySecond };
    const [before] = await service.list();
    assert.deepEqual(
      [before?.nextRunAt, before?.lastRun, before?.source],
      [sec(1), null, 'config'],
    );
    await fired();
    h.clock.advance(1000);
    assert.deepEqual(await fired(), [sec(1)]);
    const shown = await service.get('every');
    assert.equal(shown.lastRun?.at, sec(1));
    assert.equal(shown.nextRunAt, sec(2));
    assert.deepEqual(
      shown.recentJobs.map((j) => j.idempotencyKey),
      [tickKey('every', sec(1))],
    );
  });

  test('paused before the runner first saw it: no tick fires; a resume fires the next, none caught up', async () => {
    schedules = { every: everySecond };
    assert.equal((await service.pause('every')).paused, true);
    for (let n = 1; n <= 3; n++) {
      h.clock.advance(1000);
      assert.deepEqual(await fired(), []);
    }
    await service.resume('every');
    assert.deepEqual(await fired(), [], 'the ticks passed while paused stay passed');
    h.clock.advance(1000);
    assert.deepEqual(await fired(), [sec(4)]);
  });

  test('a trigger fires one job with its own key and leaves the cron state where it was', async () => {
    schedules = { every: everySecond };
    await fired();
    h.clock.advance(1000);
    await fired();
    const before = await h.store.getScheduleState('every');
    h.clock.advance(300);
    const job = await service.trigger('every');
    assert.equal(job.idempotencyKey, manualKey('every', sec(1) + 300));
    assert.deepEqual(job.payload, { from: 'schedule' });
    assert.deepEqual(await h.store.getScheduleState('every'), before);
    h.clock.advance(700);
    assert.deepEqual(await fired(), [sec(2)], 'the cron goes on as before');
  });

  test('an API schedule fires every tick after it was put, however late the runner first passes', async () => {
    await service.put('api', {
      cron: '* * * * * *',
      submit: { type: 'echo' },
      missed: { catchUp: 5 },
    });
    h.clock.advance(3000);
    assert.deepEqual(await fired(), [sec(1), sec(2), sec(3)]);
  });

  test('an API schedule: replaced keeping its pause, refused over a config name, deleted', async () => {
    schedules = { cfg: everySecond };
    const put = await service.put('api', { cron: '0 * * * *', submit: { type: 'echo' } });
    assert.equal(put.created, true);
    await service.pause('api');
    const again = await service.put('api', { cron: '30 * * * *', submit: { type: 'echo' } });
    assert.deepEqual([again.created, again.schedule.paused], [false, true]);
    await assert.rejects(service.put('cfg', { cron: '* * * * *', submit: { type: 'echo' } }), {
      code: 'GAFFER_SCHEDULE_CONFIGURED',
    });
    await assert.rejects(
      service.put('bad name!', { cron: '* * * * *', submit: { type: 'echo' } }),
      {
        code: 'GAFFER_SCHEDULE_INVALID',
      },
    );
    await service.delete('api');
    assert.deepEqual(
      (await service.list()).map((s) => s.name),
      ['cfg'],
    );
    await assert.rejects(service.delete('api'), { code: 'GAFFER_SCHEDULE_NOT_FOUND' });
  });
});
