import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { GafferEvents } from '../../src/domain/events.ts';
import { createCatalog } from '../../src/jobs/catalog.ts';
import { JobService } from '../../src/jobs/service.ts';
import { ScheduleRunner } from '../../src/schedules/runner.ts';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/index.ts';
import { T0 } from '../helpers/jobs.ts';
import { recordingLogger } from '../helpers/log.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import {
  createDatabase,
  PG_BIN,
  startPostgres,
  type PostgresServer,
} from '../helpers/servers/postgres.ts';

const config = parseConfig(
  {
    jobTypes: { echo: { worker: { command: ['true'] } } },
    schedules: {
      every: { cron: '* * * * * *', submit: { type: 'echo' }, missed: { catchUp: 100 } },
    },
  },
  'test',
);

/** One gaffer replica's share of the work: its own pool on the shared database, its runner. */
async function replica(url: string, clock: ManualClock) {
  const log = recordingLogger();
  const store = await createPostgresStore({ url, poolSize: 4 });
  const catalog = createCatalog({
    jobTypes: config.jobTypes,
    rules: config.routes.rules,
    cost: config.routes.cost,
  });
  const service = new JobService({
    store,
    clock,
    events: new GafferEvents(log),
    catalog: () => catalog,
    leaseTtlMs: config.leases.ttlMs,
    log,
  });
  const runner = new ScheduleRunner({
    store,
    jobs: service,
    clock,
    configured: () => config.schedules,
    log,
  });
  return { store, runner };
}

if (serviceAvailable(`${PG_BIN}/initdb`)) {
  describe('schedule runners on one PostgreSQL store', () => {
    let server: PostgresServer | undefined;
    before(async () => {
      server = await startPostgres();
    });
    after(async () => {
      await server?.stop();
    });

    test('two replicas fire each tick once, also when one dies between submit and advance', async () => {
      assert.ok(server);
      const url = await createDatabase(server.url);
      const clock = new ManualClock(T0);
      const a = await replica(url, clock);
      const b = await replica(url, clock);
      const stores: PostgresStore[] = [a.store, b.store];
      try {
        await Promise.all([a.runner.pass(), b.runner.pass()]);
        for (let n = 1; n <= 10; n++) {
          clock.advance(1000);
          await Promise.all([a.runner.pass(), b.runner.pass()]);
        }
        // A dies mid-pass: its submits commit, its pool is gone before it advances the state.
        const c = await replica(url, clock);
        stores.push(c.store);
        clock.advance(3000);
        const dying = c.store.advanceSchedule;
        c.store.advanceSchedule = async () => {
          throw new Error('gaffer killed');
        };
        await assert.rejects(c.runner.pass(), /gaffer killed/);
        c.store.advanceSchedule = dying;
        for (let n = 0; n < 5; n++) {
          clock.advance(1000);
          await Promise.all([b.runner.pass(), n % 2 ? a.runner.pass() : null]);
        }
        const jobs = (await b.store.list({ limit: 1000 })).jobs;
        const keys = jobs.map((j) => j.idempotencyKey);
        assert.equal(new Set(keys).size, keys.length, 'no tick has two jobs');
        assert.equal(keys.length, 18, 'every tick from T0 + 1 s to T0 + 18 s fired');
        const state = await b.store.getScheduleState('every');
        assert.equal(state?.lastTick, T0 + 18_000);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });
}
