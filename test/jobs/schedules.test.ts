import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ScheduleConfig } from '../../src/config/schema.ts';
import type { Job } from '../../src/domain/job.ts';
import { ScheduleRunner, tickKey, type PassOutcome } from '../../src/schedules/runner.ts';
import { jobsHarness, T0, type JobsHarness } from '../helpers/jobs.ts';

/** Every second, submitting an echo job: T0 is a whole second, so T0 + n s are its ticks. */
const everySecond = (over: Partial<ScheduleConfig> = {}): ScheduleConfig => ({
  cron: '* * * * * *',
  submit: { type: 'echo', payload: { from: 'schedule' } },
  missed: 'skip',
  overlap: 'allow',
  paused: false,
  ...over,
});
const sec = (n: number) => T0 + n * 1000;

describe('schedule runner', () => {
  let h: JobsHarness;
  let schedules: Record<string, ScheduleConfig>;
  beforeEach(() => {
    h = jobsHarness();
    schedules = {};
  });
  afterEach(async () => {
    await h.close();
  });

  const runner = (over: Partial<ConstructorParameters<typeof ScheduleRunner>[0]> = {}) =>
    new ScheduleRunner({
      store: h.store,
      jobs: h.service,
      clock: h.clock,
      configured: () => schedules,
      log: h.log,
      ...over,
    });
  /** Every job in the store, oldest first. */
  const jobs = async (): Promise<Job[]> =>
    (await h.store.list({ limit: 1000 })).jobs.sort((a, b) => a.createdAt - b.createdAt);
  const keys = async () => (await jobs()).map((j) => j.idempotencyKey);
  const fired = (outcomes: PassOutcome[]) => outcomes.flatMap((o) => o.fired.map((f) => f.tick));

  test('fires once per tick, with the tick as its key; a new schedule fires no past tick', async () => {
    schedules = { every: everySecond() };
    const r = runner();
    assert.deepEqual(fired(await r.pass()), [], 'first seen at T0: nothing due yet');
    for (let n = 1; n <= 3; n++) {
      h.clock.advance(1000);
      assert.deepEqual(fired(await r.pass()), [sec(n)]);
      assert.deepEqual(fired(await r.pass()), [], 'a second pass at the same time fires nothing');
    }
    assert.deepEqual(
      await keys(),
      [1, 2, 3].map((n) => tickKey('every', sec(n))),
    );
    const [first] = await jobs();
    assert.deepEqual(first?.payload, { from: 'schedule' });
    const state = await h.store.getScheduleState('every');
    assert.equal(state?.lastTick, sec(3));
    assert.equal(state?.lastFired?.jobId, (await jobs()).at(-1)?.id);
    assert.equal(state?.nextDue, sec(4));
  });

  test('two runners on one store fire each tick once', async () => {
    schedules = { every: everySecond(), other: everySecond({ missed: { catchUp: 5 } }) };
    const [a, b] = [runner(), runner()];
    await Promise.all([a.pass(), b.pass()]);
    const recorded: number[] = [];
    for (let n = 1; n <= 10; n++) {
      // Now and then a gap of two ticks: the catching-up schedule fires both, the other one.
      h.clock.advance(n % 4 === 0 ? 2000 : 1000);
      const outcomes = (await Promise.all([a.pass(), b.pass()])).flat();
      recorded.push(...fired(outcomes));
    }
    const all = await keys();
    assert.equal(new Set(all).size, all.length, 'no tick has two jobs');
    const ticks = (name: string) => all.filter((k) => k?.startsWith(`schedule:${name}:`)).length;
    assert.equal(ticks('other'), 12, 'every tick of the catching-up schedule, T0+1 s … T0+12 s');
    assert.equal(ticks('every'), 10, 'one per pass for the skipping one');
    assert.equal(recorded.length, all.length, 'each fired tick was recorded by one runner only');
  });

  test('a crash between submit and advance: the next leader submits the tick again and gets its job', async () => {
    schedules = { every: everySecond() };
    let crash = true;
    const crashing = runner({
      store: {
        ...h.store,
        listSchedules: () => h.store.listSchedules(),
        listScheduleStates: () => h.store.listScheduleStates(),
        ensureScheduleState: (...args) => h.store.ensureScheduleState(...args),
        get: (id) => h.store.get(id),
        advanceSchedule: async (...args) => {
          if (crash) throw new Error('gaffer died here');
          return h.store.advanceSchedule(...args);
        },
      },
    });
    await crashing.pass();
    h.clock.advance(1000);
    await assert.rejects(crashing.pass(), /gaffer died here/);
    crash = false;
    const [submitted] = await jobs();
    const next = runner();
    const outcome = await next.pass();
    assert.deepEqual(outcome[0]?.fired, [{ tick: sec(1), jobId: submitted?.id }]);
    assert.equal((await jobs()).length, 1);
  });

  test('after a gap: catchUp fires the N latest ticks oldest first; skip only the latest, within the grace', async () => {
    schedules = {
      three: everySecond({ missed: { catchUp: 3 } }),
      skip: everySecond(),
    };
    const r = runner({ graceMs: 60_000 });
    await r.pass();
    h.clock.advance(10_000);
    const outcomes = await r.pass();
    const by = (name: string) => outcomes.find((o) => o.name === name)!;
    assert.deepEqual(
      by('three').fired.map((f) => f.tick),
      [sec(8), sec(9), sec(10)],
    );
    assert.equal(by('three').reason, 'missed');
    assert.deepEqual(
      by('skip').fired.map((f) => f.tick),
      [sec(10)],
    );
    assert.equal((await jobs()).length, 4);
  });

  test('skip: a latest due tick later than the grace passes; the next one fires', async () => {
    // Every 30 s: T0 is hh:13:20, so the ticks are T0 + 10 s, T0 + 40 s, …
    schedules = { sparse: everySecond({ cron: '*/30 * * * * *' }) };
    const r = runner({ graceMs: 5000 });
    await r.pass();
    h.clock.advance(25_000);
    const [late] = await r.pass();
    assert.deepEqual(late?.fired, [], '15 s late: past the grace');
    assert.equal(late?.reason, 'missed');
    assert.equal((await h.store.getScheduleState('sparse'))?.lastTick, sec(10), 'passed over');
    h.clock.advance(16_000);
    assert.deepEqual(fired(await r.pass()), [sec(40)]);
  });

  test('overlap skip: no tick fires while the previous job is unfinished', async () => {
    schedules = { once: everySecond({ overlap: 'skip' }) };
    const r = runner();
    await r.pass();
    h.clock.advance(1000);
    const [first] = (await r.pass())[0]!.fired;
    assert.ok(first);
    h.clock.advance(1000);
    const skipped = await r.pass();
    assert.equal(skipped[0]?.reason, 'overlap');
    assert.deepEqual(skipped[0]?.fired, []);
    await h.service.cancel(first.jobId);
    h.clock.advance(1000);
    assert.deepEqual(fired(await r.pass()), [sec(3)], 'the previous run ended: the tick fires');
    assert.equal((await jobs()).length, 2);
  });

  test('paused fires nothing; a resume fires the next tick, not the paused ones', async () => {
    schedules = { quiet: everySecond({ paused: true, missed: { catchUp: 10 } }) };
    const r = runner();
    await r.pass();
    for (let n = 0; n < 3; n++) {
      h.clock.advance(1000);
      const [outcome] = await r.pass();
      assert.equal(outcome?.reason, 'paused');
      assert.deepEqual(outcome?.fired, []);
    }
    assert.equal((await jobs()).length, 0);
    assert.equal(await h.store.setSchedulePaused('quiet', false), true, "an operator's resume");
    h.clock.advance(1000);
    assert.deepEqual(fired(await r.pass()), [sec(4)]);
    await h.store.setSchedulePaused('quiet', true);
    h.clock.advance(1000);
    assert.deepEqual(fired(await r.pass()), [], "an operator's pause");
  });

  test('a failed submit leaves the state unadvanced: the tick fires on a later pass', async () => {
    schedules = { every: everySecond() };
    let fail = true;
    const r = runner({
      jobs: {
        submit: async (sub, by) => {
          if (fail) throw new Error('store unavailable');
          return h.service.submit(sub, by);
        },
      },
    });
    await r.pass();
    h.clock.advance(1000);
    for (let i = 0; i < 2; i++) {
      const [outcome] = await r.pass();
      assert.equal(outcome?.stopped, 'submit_failed');
    }
    assert.equal((await h.store.getScheduleState('every'))?.lastTick, null);
    const warned = h.log.records.filter((e) => e.msg.includes('could not be submitted'));
    assert.equal(warned.length, 1, 'one warning for a failure that repeats');
    fail = false;
    h.clock.advance(500);
    assert.deepEqual(fired(await r.pass()), [sec(1)]);
  });

  test("the API's schedules run too; the config's wins a name both declare", async () => {
    await h.store.putSchedule('api', everySecond({ submit: { type: 'echo', payload: 'api' } }), T0);
    await h.store.putSchedule(
      'both',
      everySecond({ submit: { type: 'echo', payload: 'api' } }),
      T0,
    );
    schedules = { both: everySecond({ submit: { type: 'echo', payload: 'config' } }) };
    const r = runner();
    await r.pass();
    h.clock.advance(1000);
    await r.pass();
    const payloads = Object.fromEntries(
      (await jobs()).map((j) => [j.idempotencyKey?.split(':')[1], j.payload]),
    );
    assert.deepEqual(payloads, { api: 'api', both: 'config' });
  });

  test('a reload applies at the next pass; a tick submitted differently keeps its first job', async () => {
    schedules = { every: everySecond() };
    const r = runner();
    await r.pass();
    h.clock.advance(1000);
    const [job] = (await r.pass())[0]!.fired;
    // Another replica's pass had read the old last tick, and its config the new payload.
    await h.store.advanceSchedule('every', sec(1), {
      lastTick: sec(0),
      jobId: null,
      nextDue: null,
    });
    schedules = { every: everySecond({ submit: { type: 'echo', payload: 'changed' } }) };
    assert.deepEqual(fired(await r.pass()), [sec(1)]);
    assert.equal((await h.store.getScheduleState('every'))?.lastFired?.jobId, job?.jobId);
    h.clock.advance(1000);
    await r.pass();
    assert.deepEqual((await jobs()).at(-1)?.payload, 'changed');
  });

  test('leading runs passes on the clock; following stops them', async () => {
    schedules = { every: everySecond() };
    const r = runner({ intervalMs: 1000 });
    await r.pass();
    r.lead();
    r.lead();
    assert.equal(h.clock.pending().length, 2, 'one pass timer (beside the lease sweep)');
    for (let n = 1; n <= 3; n++) {
      h.clock.advance(1000);
      await r.pass();
    }
    assert.equal((await jobs()).length, 3);
    r.follow();
    assert.equal(r.leading, false);
    assert.equal(h.clock.pending().length, 1);
    h.clock.advance(5000);
    assert.equal((await jobs()).length, 3);
    r.lead();
    h.clock.advance(1000);
    await r.stop();
    assert.equal((await jobs()).length, 4, 'stop waits for the pass under way');
    assert.equal(h.clock.pending().length, 1);
  });
});
