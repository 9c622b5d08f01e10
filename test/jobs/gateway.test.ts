import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { jobsHarness, T0, type JobsHarness } from '../helpers/jobs.ts';

// The worker gateway on a manual clock: no process, no timer but the clock's, no sleep. Workers
// are in-memory links the test speaks for; the store is SQLite in memory.

function setup(t: TestContext, raw: Record<string, unknown> = {}): JobsHarness {
  const h = jobsHarness(raw);
  t.after(() => h.close());
  return h;
}

const stateOf = (h: JobsHarness, id: string) => h.gateway.workers().find((w) => w.id === id);

describe('claims', () => {
  test('a claim leases up to `max` queued jobs to the worker, under the lease TTL', async (t) => {
    const h = setup(t);
    const submitted = [await h.submit(), await h.submit(), await h.submit()];
    const w = await h.worker('w-1', { concurrency: 2 });
    assert.equal(stateOf(h, 'w-1')?.state, 'idle');

    w.send({ t: 'claim', max: 2 });
    const { jobs } = await w.next('jobs');
    assert.equal(jobs.length, 2, 'no more than asked for');
    for (const a of jobs) {
      assert.ok(submitted.some((j) => j.id === a.id));
      const job = await h.service.get(a.id);
      assert.equal(job.state, 'running');
      assert.equal(job.leaseOwner, 'w-1');
      assert.equal(job.leaseToken, a.token, 'the worker holds the current fencing token');
      assert.equal(job.leaseExpiresAt, T0 + 10_000, 'leased for the TTL from now');
    }
    assert.deepEqual(
      { state: stateOf(h, 'w-1')?.state, active: stateOf(h, 'w-1')?.active },
      { state: 'busy', active: 2 },
    );
  });

  test('long poll: a claim that finds nothing waits, and is answered when a job arrives', async (t) => {
    const h = setup(t);
    const w = await h.worker('w-1');
    const empty = h.nextClaim();
    w.send({ t: 'claim', max: 1 });
    assert.deepEqual((await empty).jobs, [], 'the store had nothing for it');
    assert.deepEqual(w.received, [], 'no answer while nothing is queued');

    const job = await h.submit();
    const { jobs } = await w.next('jobs');
    assert.deepEqual(
      jobs.map((a) => a.id),
      [job.id],
    );
  });

  test('long poll: a waiting claim is answered when a retry falls due, at the sweep after its backoff', async (t) => {
    const h = setup(t, {
      jobTypes: { echo: { worker: { command: ['true'] }, retry: { backoffMs: 5_000 } } },
    });
    const job = await h.submit();
    const w = await h.worker('w-1');
    w.send({ t: 'claim', max: 1 });
    const [first] = (await w.next('jobs')).jobs;
    const retrying = h.events.once('job:retrying');
    w.send({
      t: 'done',
      id: job.id,
      token: first!.token,
      outcome: { status: 'failed', error: { class: 'application', message: 'boom' } },
    });
    const { job: queued } = await retrying;
    assert.ok(queued.runAt > h.clock.now(), 'due after its backoff');

    const empty = h.nextClaim();
    w.send({ t: 'claim', max: 1 });
    assert.deepEqual((await empty).jobs, [], 'not due yet: the claim waits');
    h.clock.advance(queued.runAt - h.clock.now() - 1);
    const early = await h.nextClaim(); // the sweeps so far wake the worker; still not due
    assert.deepEqual(early.jobs, []);

    h.clock.advance(h.config.leases.sweepMs); // the next sweep after the backoff
    const [second] = (await w.next('jobs')).jobs;
    assert.equal(second?.id, job.id);
    assert.equal(second?.attempt, 2);
  });

  test('a per-job worker is given its assigned job at hello, and never served a claim', async (t) => {
    const h = setup(t);
    const submitted = await h.submit();
    await h.submit(); // another queued job: never handed to the per-job worker
    const { job, worker } = await h.perJobWorker('pj-1');
    assert.equal(job.id, submitted.id);
    assert.equal(stateOf(h, 'pj-1')?.state, 'starting', 'holds its job while starting');

    await worker.hello('echo', job.id);
    const { jobs } = await worker.next('jobs');
    assert.deepEqual(
      jobs.map((a) => [a.id, a.token, a.isolate]),
      [[job.id, job.leaseToken, undefined]],
    );
    const claimed = h.nextClaim();
    worker.send({ t: 'claim', max: 5 });
    worker.send({ t: 'started', id: job.id, token: job.leaseToken! });
    await h.events.once('job:started', ({ job: j }) => j.id === job.id && j.state === 'running');
    assert.equal(stateOf(h, 'pj-1')?.state, 'busy');

    const done = h.events.once('job:succeeded');
    worker.send({
      t: 'done',
      id: job.id,
      token: job.leaseToken!,
      outcome: { status: 'succeeded', result: 'ok' },
    });
    assert.equal((await done).job.id, job.id);
    assert.deepEqual(
      worker.received.map((m) => m.t),
      ['jobs'],
      'nothing but its own job, whatever it claimed',
    );
    const other = await Promise.race([claimed, Promise.resolve(null)]);
    assert.equal(other, null, 'its claim never reached the store');
  });
});

describe('fencing and leases', () => {
  test('a lease expires when the clock passes it unrenewed: the job is retried, the holder told', async (t) => {
    const h = setup(t, {
      jobTypes: { echo: { worker: { command: ['true'] }, retry: { backoffMs: 0 } } },
    });
    const job = await h.submit();
    const w = await h.worker('w-1');
    w.send({ t: 'claim', max: 1 });
    const [lease] = (await w.next('jobs')).jobs;

    // Heartbeats renew the lease: past its first expiry, it still holds.
    h.clock.advance(9_000);
    const renewed = h.nextHeartbeat();
    w.send({ t: 'heartbeat', leases: [{ id: job.id, token: lease!.token }] });
    assert.equal(await renewed, true);
    const held = await h.service.get(job.id);
    assert.equal(held.leaseExpiresAt, T0 + 9_000 + 10_000, 'renewed for a TTL from the heartbeat');
    assert.equal(held.state, 'running');

    const redelivered = h.events.once('job:redelivered');
    h.clock.advance(10_001); // then silence past the renewed lease: the next sweep expires it
    const { job: back, cause } = await redelivered;
    assert.equal(cause, 'lease_expired');
    assert.equal(back.state, 'queued');
    assert.deepEqual(await w.next('cancel'), {
      t: 'cancel',
      id: job.id,
      reason: 'lease expired',
    });
    assert.deepEqual(
      { state: stateOf(h, 'w-1')?.state, active: stateOf(h, 'w-1')?.active },
      { state: 'idle', active: 0 },
    );
  });

  test("a stale lease token is refused: the old holder's heartbeat and result change nothing", async (t) => {
    const h = setup(t, {
      jobTypes: { echo: { worker: { command: ['true'] }, retry: { backoffMs: 0 } } },
    });
    const job = await h.submit();
    const a = await h.worker('w-a');
    a.send({ t: 'claim', max: 1 });
    const [old] = (await a.next('jobs')).jobs;
    const expired = h.events.once('job:redelivered');
    h.clock.advance(10_000 + h.config.leases.sweepMs);
    await expired;

    const b = await h.worker('w-b');
    b.send({ t: 'claim', max: 1 });
    const [current] = (await b.next('jobs')).jobs;
    assert.equal(current?.id, job.id);
    assert.ok(current!.token > old!.token, 'a later lease has a larger token');

    // The old holder wakes up: its heartbeat and its result carry the stale token. The gateway
    // drops both (the lease is no longer its), so neither reaches the store.
    a.send({ t: 'heartbeat', leases: [{ id: job.id, token: old!.token }] });
    a.send({
      t: 'done',
      id: job.id,
      token: old!.token,
      outcome: { status: 'succeeded', result: 'a' },
    });
    const done = h.events.once('job:succeeded');
    b.send({
      t: 'done',
      id: job.id,
      token: current!.token,
      outcome: { status: 'succeeded', result: 'b' },
    });
    const { job: ended } = await done;
    assert.equal(ended.result, 'b', 'only the current holder ended it');
    assert.equal(ended.attempt, 2);
    // The service fences too: a completion under the old token is refused by the store.
    const stale = await h.service.complete(ended, old!.token, { status: 'succeeded', result: 'a' });
    assert.equal(stale, null);
    assert.equal((await h.service.get(job.id)).result, 'b');
  });
  test('a worker given its job again under a new lease: its report for the old attempt is refused', async (t) => {
    const h = setup(t, {
      jobTypes: { echo: { worker: { command: ['true'] }, retry: { backoffMs: 0 } } },
    });
    const job = await h.submit();
    const w = await h.worker('w-1');
    w.send({ t: 'claim', max: 1 });
    const [old] = (await w.next('jobs')).jobs;
    const expired = h.events.once('job:redelivered');
    h.clock.advance(10_000 + h.config.leases.sweepMs);
    await expired;
    await w.next('cancel');
    w.send({ t: 'claim', max: 1 });
    const [current] = (await w.next('jobs')).jobs;
    assert.equal(current?.id, job.id);

    const done = h.events.once('job:succeeded');
    w.send({
      t: 'done',
      id: job.id,
      token: old!.token,
      outcome: { status: 'succeeded', result: 'old' },
    });
    w.send({
      t: 'done',
      id: job.id,
      token: current!.token,
      outcome: { status: 'succeeded', result: 'new' },
    });
    assert.equal((await done).job.result, 'new');
  });
});

describe('drain', () => {
  test('a retired busy worker takes nothing new and is told to drain only once it holds nothing', async (t) => {
    const h = setup(t);
    const job = await h.submit();
    await h.submit();
    const w = await h.worker('w-1');
    w.send({ t: 'claim', max: 1 });
    const [lease] = (await w.next('jobs')).jobs;

    assert.equal(h.gateway.retire('w-1'), true);
    assert.equal(stateOf(h, 'w-1')?.state, 'draining');
    assert.equal(h.gateway.retire('w-1'), false, 'retiring a draining worker again does nothing');
    w.send({ t: 'claim', max: 1 }); // a claim from a draining worker is not served
    const done = h.events.once('job:succeeded');
    w.send({
      t: 'done',
      id: job.id,
      token: lease!.token,
      outcome: { status: 'succeeded', result: 1 },
    });
    await done;
    assert.deepEqual(await w.next('drain'), { t: 'drain' });
    assert.deepEqual(
      w.received.map((m) => m.t),
      ['jobs', 'drain'],
      'no job after the retire, and the drain only after its job ended',
    );

    const stopped = h.events.once('worker:stopped');
    await h.gateway.exited('w-1', 0, null);
    assert.equal((await stopped).clean, true);
    assert.equal(stateOf(h, 'w-1'), undefined);
  });

  test('a retired idle worker is told to drain at once', async (t) => {
    const h = setup(t);
    const w = await h.worker('w-1');
    assert.equal(h.gateway.retire('w-1'), true);
    assert.deepEqual(await w.next('drain'), { t: 'drain' });
  });

  test('a worker retired while starting stays draining through its hello, and drains then', async (t) => {
    const h = setup(t);
    const w = await h.worker('w-1', { hello: false });
    assert.equal(h.gateway.retire('w-1'), true);
    await w.hello('echo');
    assert.equal(stateOf(h, 'w-1')?.state, 'draining', 'the state table keeps it draining');
    assert.deepEqual(await w.next('drain'), { t: 'drain' });
  });

  test('a worker that exits holding a job: the job is retried as a suspect, the exit not clean', async (t) => {
    const h = setup(t);
    const job = await h.submit();
    const w = await h.worker('w-1');
    w.send({ t: 'claim', max: 1 });
    await w.next('jobs');
    const stopped = h.events.once('worker:stopped');
    await h.gateway.exited('w-1', null, 'SIGKILL');
    assert.equal((await stopped).clean, false);
    const back = await h.service.get(job.id);
    assert.equal(back.state, 'queued');
    assert.equal(back.error?.workerLost, true);
  });
});

describe('broker mode: delivered ids', () => {
  test('claimable ids are leased; the rest are refused as spent, never handed out', async (t) => {
    const h = setup(t);
    const queued = await h.submit();
    const taken = await h.submit();
    const [elsewhere] = await h.service.claim('echo', 'w-other', 1, 'running', [taken.id]);
    assert.equal(elsewhere?.id, taken.id);
    const w = await h.worker('w-1');

    w.send({ t: 'claim-jobs', ids: [queued.id, taken.id, 'no-such-job'] });
    const { jobs } = await w.next('jobs');
    assert.deepEqual(
      jobs.map((a) => a.id),
      [queued.id],
    );
    assert.deepEqual(await w.next('refused'), {
      t: 'refused',
      ids: [taken.id, 'no-such-job'],
      requeue: false,
    });
  });

  test('a draining worker hands its deliveries back to be requeued', async (t) => {
    const h = setup(t);
    const job = await h.submit();
    const w = await h.worker('w-1');
    h.gateway.retire('w-1');
    w.send({ t: 'claim-jobs', ids: [job.id] });
    assert.deepEqual(await w.next('refused'), { t: 'refused', ids: [job.id], requeue: true });
    assert.equal((await h.service.get(job.id)).state, 'queued');
  });
});

describe('handler-chosen delays', () => {
  test("a worker's snooze: the job is claimable again only after the delay, with its attempt unspent", async (t) => {
    const h = setup(t);
    const job = await h.submit();
    const w = await h.worker('w-1');
    w.send({ t: 'claim', max: 1 });
    const [first] = (await w.next('jobs')).jobs;
    const snoozed = h.events.once('job:retrying');
    w.send({
      t: 'done',
      id: job.id,
      token: first!.token,
      outcome: { status: 'snoozed', delayMs: 20_000 },
    });
    const { job: queued } = await snoozed;
    assert.equal(queued.runAt, h.clock.now() + 20_000);

    const empty = h.nextClaim();
    w.send({ t: 'claim', max: 1 });
    assert.deepEqual((await empty).jobs, [], 'not due yet: the claim waits');
    h.clock.advance(20_000 + h.config.leases.sweepMs);
    const [second] = (await w.next('jobs')).jobs;
    assert.deepEqual([second?.id, second?.attempt], [job.id, 1]);
  });
});

describe('dispatch order: jobs are packed onto the busiest waiting worker', () => {
  test('a new job goes to the waiting worker with the fewest free slots', async (t) => {
    const h = setup(t);
    const idle = await h.worker('w-idle', { concurrency: 2 });
    const busy = await h.worker('w-busy', { concurrency: 2 });
    await h.submit();
    busy.send({ t: 'claim', max: 2 });
    await busy.next('jobs'); // holds 1 of 2
    const nothing = h.nextClaim();
    idle.send({ t: 'claim', max: 2 });
    assert.deepEqual((await nothing).jobs, []);
    busy.send({ t: 'claim', max: 1 });
    await h.nextClaim(); // finds nothing, waits too

    const started = h.events.once('job:started');
    const job = await h.submit();
    const { job: leased } = await started;
    assert.deepEqual([leased.id, leased.leaseOwner], [job.id, 'w-busy']);
    assert.deepEqual(
      idle.received.filter((m) => m.t === 'jobs'),
      [],
      'the idle worker is left idle',
    );
  });

  test('among idle workers, the one started earliest first', async (t) => {
    const h = setup(t);
    const first = await h.worker('w-1');
    h.clock.advance(1000);
    const later = [await h.worker('w-2'), await h.worker('w-3')];
    for (const w of [...later, first]) {
      const empty = h.nextClaim();
      w.send({ t: 'claim', max: 1 });
      await empty;
    }
    const claims: string[] = [];
    h.events.on('job:started', ({ job }) => claims.push(job.leaseOwner ?? ''));
    const job = await h.submit();
    const { jobs } = await first.next('jobs');
    assert.equal(jobs[0]?.id, job.id);
    assert.deepEqual(claims, ['w-1']);
    const second = await h.submit();
    assert.equal((await later[0]!.next('jobs')).jobs[0]?.id, second.id, 'then the next earliest');
  });
});
