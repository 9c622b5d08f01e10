import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { JobStore } from '../../../src/store/job-store.ts';
import type { ScheduleDefinition } from '../../../src/store/roles/schedule-records.ts';
import { T0 } from '../contract-fixture.ts';

const nightly: ScheduleDefinition = {
  cron: '0 2 * * *',
  timezone: 'Europe/Berlin',
  submit: { type: 'render', payload: { pages: [1, 2] }, priority: 'high' },
  missed: { catchUp: 3 },
  overlap: 'skip',
  paused: false,
};

/**
 * The `ScheduleRecords` role (src/store/roles/schedule-records.ts) as every store plays it:
 * API-declared schedules and every schedule's state, advanced by compare-and-set. `makeStore`
 * must return a fresh, empty store each call; the suite closes it after each test.
 */
export function describeScheduleRecordsContract(
  name: string,
  makeStore: () => Promise<JobStore>,
): void {
  describe(`ScheduleRecords contract: ${name}`, () => {
    let store: JobStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    test('a definition is created, replaced (keeping its creation time), listed and deleted', async () => {
      const created = await store.putSchedule('nightly', nightly, T0);
      assert.deepEqual(created, {
        name: 'nightly',
        definition: nightly,
        createdAt: T0,
        updatedAt: T0,
      });
      assert.deepEqual(await store.getSchedule('nightly'), created);
      const hourly = { ...nightly, cron: '@hourly', missed: 'skip' as const };
      const replaced = await store.putSchedule('nightly', hourly, T0 + 5);
      assert.deepEqual(replaced, { ...created, definition: hourly, updatedAt: T0 + 5 });
      await store.putSchedule('a-first', nightly, T0 + 6);
      assert.deepEqual(
        (await store.listSchedules()).map((s) => [s.name, s.definition.cron]),
        [
          ['a-first', '0 2 * * *'],
          ['nightly', '@hourly'],
        ],
      );
      assert.equal(await store.getSchedule('missing'), undefined);
      assert.equal(await store.deleteSchedule('nightly'), true);
      assert.equal(await store.deleteSchedule('nightly'), false);
      assert.deepEqual(
        (await store.listSchedules()).map((s) => s.name),
        ['a-first'],
      );
    });

    test('a state is created once; later calls get it unchanged', async () => {
      const first = await store.ensureScheduleState('nightly', T0, T0 + 100);
      assert.deepEqual(first, {
        name: 'nightly',
        since: T0,
        paused: null,
        lastTick: null,
        lastFired: null,
        nextDue: T0 + 100,
      });
      assert.deepEqual(await store.ensureScheduleState('nightly', T0 + 50, null), first);
      const racing = await Promise.all(
        Array.from({ length: 6 }, (_, i) => store.ensureScheduleState('often', T0 + i, null)),
      );
      assert.equal(new Set(racing.map((s) => s.since)).size, 1, 'one creation won');
      assert.deepEqual(await store.getScheduleState('nightly'), first);
      assert.equal(await store.getScheduleState('missing'), undefined);
      assert.deepEqual(
        (await store.listScheduleStates()).map((s) => s.name),
        ['nightly', 'often'],
      );
    });

    test("the operator's pause overrides the declared one until cleared", async () => {
      await store.ensureScheduleState('nightly', T0, null);
      for (const paused of [true, false, null]) {
        assert.equal(await store.setSchedulePaused('nightly', paused), true);
        assert.equal((await store.getScheduleState('nightly'))?.paused, paused);
      }
      assert.equal(await store.setSchedulePaused('missing', true), false);
    });

    test('advance is a compare-and-set on the last tick; a pass-over keeps the last job', async () => {
      await store.ensureScheduleState('nightly', T0, T0 + 10);
      const fire = (expected: number | null, lastTick: number, jobId: string | null) =>
        store.advanceSchedule('nightly', expected, { lastTick, jobId, nextDue: lastTick + 10 });

      assert.equal(await fire(null, T0 + 10, 'job-1'), true);
      assert.equal(
        await fire(null, T0 + 10, 'job-other'),
        false,
        'the expectation no longer holds',
      );
      assert.deepEqual(await store.getScheduleState('nightly'), {
        name: 'nightly',
        since: T0,
        paused: null,
        lastTick: T0 + 10,
        lastFired: { tick: T0 + 10, jobId: 'job-1' },
        nextDue: T0 + 20,
      });
      assert.equal(await fire(T0 + 20, T0 + 30, 'job-x'), false, 'a wrong expectation');
      assert.equal(await fire(T0 + 10, T0 + 30, null), true, 'ticks passed over');
      const passed = await store.getScheduleState('nightly');
      assert.equal(passed?.lastTick, T0 + 30);
      assert.deepEqual(passed?.lastFired, { tick: T0 + 10, jobId: 'job-1' });
      assert.equal(passed?.nextDue, T0 + 40);
      assert.equal(
        await store.advanceSchedule('missing', null, { lastTick: T0, jobId: null, nextDue: null }),
        false,
      );
    });

    test('of many callers advancing from one tick at once, exactly one succeeds', async () => {
      await store.ensureScheduleState('nightly', T0, null);
      const won = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.advanceSchedule('nightly', null, {
            lastTick: T0 + 10,
            jobId: `job-${i}`,
            nextDue: null,
          }),
        ),
      );
      assert.equal(won.filter(Boolean).length, 1);
      const state = await store.getScheduleState('nightly');
      assert.equal(state?.lastFired?.jobId, `job-${won.indexOf(true)}`);
    });

    test("deleting a schedule deletes its state; a definition's replacement keeps it", async () => {
      await store.putSchedule('nightly', nightly, T0);
      await store.ensureScheduleState('nightly', T0, null);
      await store.advanceSchedule('nightly', null, { lastTick: T0 + 1, jobId: 'j', nextDue: null });
      await store.putSchedule('nightly', { ...nightly, cron: '@daily' }, T0 + 2);
      assert.equal((await store.getScheduleState('nightly'))?.lastTick, T0 + 1);
      assert.equal(await store.deleteSchedule('nightly'), true);
      assert.equal(await store.getScheduleState('nightly'), undefined);
      // A config schedule has state only: deleting it by name removes that.
      await store.ensureScheduleState('from-config', T0, null);
      assert.equal(await store.deleteSchedule('from-config'), true);
      assert.equal(await store.getScheduleState('from-config'), undefined);
    });
  });
}
