import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { GafferEvents } from '../../src/domain/events.ts';
import { createCatalog } from '../../src/jobs/catalog.ts';
import { QueueView } from '../../src/jobs/queue-view.ts';
import { JobService } from '../../src/jobs/service.ts';
import { Throughput } from '../../src/jobs/throughput.ts';
import { WorkerGateway } from '../../src/jobs/worker-gateway.ts';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { stderrLogger } from '../helpers/log.ts';

/**
 * The read side of the queues on a `:memory:` store, gaffer's own job service and worker gateway:
 * what `GET /v1/queues`, `/v1/scaling/*`, `/v1/workers/events`, a job's `waiting` and the
 * library's `queues()` show.
 */

function setup(t: TestContext, options: { room?: number | null; desired?: number } = {}) {
  const config = parseConfig(
    {
      jobTypes: {
        pool: { worker: { command: ['true'] }, scaling: { min: 0, max: 3 } },
        idle: { worker: { command: ['true'] }, scaling: { max: 2 } },
      },
    },
    'test',
  );
  const catalog = createCatalog({
    jobTypes: config.jobTypes,
    rules: config.routes.rules ?? [],
    cost: config.routes.cost,
  });
  const log = stderrLogger();
  const store = createSqliteStore({ path: ':memory:', synchronous: 'NORMAL', log });
  const clock = new ManualClock();
  const events = new GafferEvents(log);
  const service = new JobService({
    store,
    clock,
    events,
    catalog: () => catalog,
    leaseTtlMs: 30_000,
    log,
  });
  const gateway = new WorkerGateway({ service, store, events, clock, log });
  t.after(async () => {
    gateway.close();
    await gateway.recorded();
    await store.close();
  });
  const decisions = new Map(
    options.desired === undefined ? [] : [['pool', { inputs: { desired: options.desired } }]],
  );
  const view = new QueueView({
    store,
    gateway,
    lastDecisions: () => decisions,
    throughput: new Throughput(events, clock),
    catalog: () => catalog,
    capacity: () => null,
    room: () => options.room ?? null,
    runnable: () => true,
    flowHold: (job) => service.flowHold(job),
    pausedTypes: () => service.pausedTypes(),
    clock,
  });
  return { view, service, gateway, store, clock };
}

test('status: per type the backlog, the workers by state and what the autoscaler wants', async (t) => {
  const { view, service, gateway, clock } = setup(t, { desired: 3 });
  for (let i = 0; i < 3; i++) await service.submit({ type: 'pool', payload: i });
  await service.claim('pool', 'w-1', 1, 'running');
  gateway.register({ id: 'w-1', type: 'pool', mode: 'pool', concurrency: 1 });
  clock.advance(1000);
  const [pool, idle] = await view.status();
  assert.deepEqual(
    [pool!.type, pool!.ready, pool!.inFlight, pool!.backlog, pool!.workers, pool!.desired],
    ['pool', 2, 1, 3, { starting: 1, idle: 0, busy: 0, draining: 0 }, 3],
  );
  assert.deepEqual([pool!.min, pool!.max, pool!.mode, pool!.queue], [0, 3, 'pool', 'pool']);
  assert.deepEqual([idle!.type, idle!.ready, idle!.desired], ['idle', 0, 0]);
  assert.deepEqual(view.desired(), {
    pool: { current: 1, desired: 3 },
    idle: { current: 0, desired: 0 },
  });
  assert.deepEqual(
    view.workers().map((w) => w.id),
    ['w-1'],
  );
  assert.deepEqual(
    (await view.stats()).map((s) => [s.type, s.ready]),
    [['pool', 2]],
  );
});

test('waiting: why a queued job waits, and its place in line; a running job does not wait', async (t) => {
  const { view, service } = setup(t, { room: 0 });
  const { job: first } = await service.submit({ type: 'pool', payload: 1 });
  const { job: second } = await service.submit({ type: 'pool', payload: 2 });
  const why = await view.waiting(second);
  assert.deepEqual([why?.reason, why?.position], ['capacity', 1]);
  const [running] = await service.claim('pool', 'w-1', 1, 'running');
  assert.equal(running!.id, first.id);
  assert.equal(await view.waiting(running!), null);
});

test('decisions and worker events: newest first, by type, at most limit', async (t) => {
  const { view, store, gateway, clock } = setup(t);
  for (const [type, to] of [
    ['pool', 1],
    ['idle', 1],
    ['pool', 2],
  ] as const) {
    clock.advance(1000);
    await store.recordDecision({
      type,
      at: clock.now(),
      from: to - 1,
      to,
      retire: [],
      reason: 'backlog',
      inputs: {},
    });
  }
  assert.deepEqual(
    (await view.decisions({ type: 'pool', limit: 10 })).map((d) => d.to),
    [2, 1],
  );
  assert.equal((await view.decisions({ limit: 1 })).length, 1);
  gateway.register({ id: 'w-1', type: 'pool', mode: 'pool', concurrency: 1 });
  gateway.register({ id: 'w-2', type: 'idle', mode: 'pool', concurrency: 1 });
  await gateway.recorded();
  assert.deepEqual(
    (await view.workerEvents({ type: 'idle', limit: 10 })).map((e) => [e.workerId, e.event]),
    [['w-2', 'started']],
  );
});
