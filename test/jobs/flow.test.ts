import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { jobsHarness, type JobsHarness } from '../helpers/jobs.ts';

// Flow control through the job service and the worker gateway, on a manual clock: the claim
// decides in the store (SQLite in memory), the gateway serves and wakes workers.

function setup(
  t: TestContext,
  raw: Record<string, unknown> = {},
  options: { parking?: boolean } = {},
): JobsHarness {
  const h = jobsHarness(raw, options);
  t.after(() => h.close());
  return h;
}

const ECHO = { worker: { command: ['true'] } };

describe('pause and resume', () => {
  test('a paused type accepts jobs, starts none, says why; resumed, its waiting worker is served', async (t) => {
    const h = setup(t);
    await h.service.pause('echo', { id: 'ops-key' });
    const job = await h.submit();
    assert.equal(job.state, 'queued', 'a paused type still accepts submissions');
    const w = await h.worker('w-1');
    const empty = h.nextClaim();
    w.send({ t: 'claim', max: 1 });
    assert.deepEqual((await empty).jobs, []);
    assert.deepEqual(await h.service.flowHold(job), { reason: 'paused' });
    assert.deepEqual(
      (await h.service.pausedTypes()).map((p) => [p.type, p.by]),
      [['echo', 'ops-key']],
    );

    await h.service.resume('echo', { id: 'ops-key' });
    h.gateway.notify('echo');
    const { jobs } = await w.next('jobs');
    assert.deepEqual(
      jobs.map((a) => a.id),
      [job.id],
    );
    const audit = await h.store.listAudit({ limit: 10 });
    assert.deepEqual(
      audit.entries.map((e) => [e.action, e.actor, e.details]),
      [
        ['type.resume', 'ops-key', { type: 'echo' }],
        ['type.pause', 'ops-key', { type: 'echo' }],
      ],
    );
  });

  test('pausing an unknown type is refused', async (t) => {
    const h = setup(t);
    await assert.rejects(h.service.pause('nope'), { code: 'GAFFER_UNKNOWN_TYPE' });
  });

  test('a paused type keeps its running jobs: they finish', async (t) => {
    const h = setup(t);
    const job = await h.submit();
    const w = await h.worker('w-1');
    w.send({ t: 'claim', max: 1 });
    const [a] = (await w.next('jobs')).jobs;
    await h.service.pause('echo');
    const done = h.events.once('job:succeeded');
    w.send({ t: 'done', id: job.id, token: a!.token, outcome: { status: 'succeeded', result: 1 } });
    assert.equal((await done).job.state, 'succeeded');
  });
});

describe('rate limit', () => {
  test('a type limited to 2 starts per 10 s: 2 start, the rest wait as rate_limit and start when the window frees', async (t) => {
    const h = setup(t, {
      jobTypes: { echo: { ...ECHO, concurrency: 5, rateLimit: { starts: 2, perSeconds: 10 } } },
    });
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await h.submit());
    const w = await h.worker('w-1', { concurrency: 5 });
    w.send({ t: 'claim', max: 5 });
    const first = (await w.next('jobs')).jobs;
    assert.equal(first.length, 2);
    const start = h.clock.now();
    assert.deepEqual(await h.service.flowHold(jobs[4]!), {
      reason: 'rate_limit',
      until: start + 10_000,
    });

    w.send({ t: 'claim', max: 3 });
    const waiting = w.next('jobs');
    h.clock.advance(9_999);
    assert.equal(
      w.received.filter((m) => m.t === 'jobs').length,
      1,
      'nothing before the window frees',
    );
    h.clock.advance(1);
    const second = (await waiting).jobs;
    assert.equal(second.length, 2, 'served when the window frees, without a new submission');
  });
});

describe('key limit', () => {
  test('a key at its limit waits as key_limit while another key starts', async (t) => {
    const h = setup(t, {
      jobTypes: {
        echo: { ...ECHO, concurrency: 10, keyLimit: { key: 'payload.tenant', running: 1 } },
      },
    });
    const a = [
      await h.submit('echo', { payload: { tenant: 'a' } }),
      await h.submit('echo', { payload: { tenant: 'a' } }),
    ];
    const b = await h.submit('echo', { payload: { tenant: 'b' } });
    const w = await h.worker('w-1', { concurrency: 10 });
    w.send({ t: 'claim', max: 10 });
    const got = (await w.next('jobs')).jobs.map((j) => j.id).sort();
    assert.deepEqual(got, [a[0]!.id, b.id].sort());
    assert.deepEqual(await h.service.flowHold(a[1]!), { reason: 'key_limit', key: 'a' });
  });

  test('a claim waiting on a key is served as soon as a job of that key ends', async (t) => {
    const h = setup(t, {
      jobTypes: {
        echo: { ...ECHO, concurrency: 2, keyLimit: { key: 'payload.tenant', running: 1 } },
      },
    });
    const first = await h.submit('echo', { payload: { tenant: 'a' } });
    const second = await h.submit('echo', { payload: { tenant: 'a' } });
    const w = await h.worker('w-1', { concurrency: 2 });
    w.send({ t: 'claim', max: 2 });
    const [a] = (await w.next('jobs')).jobs;
    assert.equal(a?.id, first.id);
    const empty = h.nextClaim();
    w.send({ t: 'claim', max: 1 });
    assert.deepEqual((await empty).jobs, [], 'its key is at its limit');
    const next = w.next('jobs');
    w.send({
      t: 'done',
      id: first.id,
      token: a.token,
      outcome: { status: 'succeeded', result: 1 },
    });
    assert.deepEqual(
      (await next).jobs.map((j) => j.id),
      [second.id],
      'served without waiting for a sweep',
    );
  });
});

describe('broker deliveries', () => {
  test('a delivered job the rate limit holds back goes back to the broker when the window frees', async (t) => {
    const h = setup(t, {
      jobTypes: { echo: { ...ECHO, concurrency: 2, rateLimit: { starts: 1, perSeconds: 5 } } },
    });
    const [a, b] = [await h.submit(), await h.submit()];
    const w = await h.worker('w-1', { concurrency: 2 });
    w.send({ t: 'claim-jobs', ids: [a.id, b.id] });
    assert.deepEqual(
      (await w.next('jobs')).jobs.map((j) => j.id),
      [a.id],
    );
    const refused = w.next('refused');
    h.clock.advance(4_999);
    assert.equal(w.received.filter((m) => m.t === 'refused').length, 0, 'held, not spun on');
    h.clock.advance(1);
    assert.deepEqual(await refused, { t: 'refused', ids: [b.id], requeue: true });
    assert.equal((await h.service.get(b.id)).state, 'queued');
  });

  test("a delivered job its full key holds back is parked, its message spent; published again when the key's job ends", async (t) => {
    const h = setup(
      t,
      {
        jobTypes: {
          echo: { ...ECHO, concurrency: 3, keyLimit: { key: 'payload.tenant', running: 1 } },
        },
      },
      { parking: true },
    );
    const submit = (tenant: string) => h.submit('echo', { payload: { tenant } });
    const [a, b, c] = [await submit('big'), await submit('big'), await submit('small')];
    const w = await h.worker('w-1', { concurrency: 3 });
    w.send({ t: 'claim-jobs', ids: [a.id, b.id, c.id] });
    const started = await w.next('jobs');
    assert.deepEqual(started.jobs.map((j) => j.id).sort(), [a.id, c.id].sort());
    assert.deepEqual(
      await w.next('refused'),
      { t: 'refused', ids: [b.id], requeue: false },
      "spent at once: the worker's slot takes the next message",
    );
    assert.deepEqual(h.republished, [], 'parked while its key is full');
    const ended = h.events.once('job:succeeded');
    const done = started.jobs.find((j) => j.id === a.id)!;
    w.send({
      t: 'done',
      id: a.id,
      token: done.token,
      outcome: { status: 'succeeded', result: null },
    });
    await ended;
    assert.deepEqual(h.republished, [[b.id]], 'its key has room: published again');
    assert.equal((await h.service.get(b.id)).state, 'queued');
  });

  test('a delivered job of a paused type stays with its worker, unacked, and starts when resumed', async (t) => {
    const h = setup(t);
    const job = await h.submit();
    await h.service.pause('echo');
    const w = await h.worker('w-1');
    const claimed = h.nextClaim();
    w.send({ t: 'claim-jobs', ids: [job.id] });
    assert.deepEqual((await claimed).jobs, []);
    // The gateway acts on the claim's answer in the turn it resolves: let it run first.
    await new Promise(setImmediate);
    h.clock.advance(30_000);
    await new Promise(setImmediate);
    assert.deepEqual(
      w.received.map((m) => m.t),
      [],
      'neither spent nor handed back: a pause costs no claim',
    );
    await h.service.resume('echo');
    h.gateway.resumed('echo');
    const { jobs } = await w.next('jobs');
    assert.deepEqual(
      jobs.map((a) => a.id),
      [job.id],
    );
  });

  test('a delivered job of a paused type goes back to the broker after a minute, not spent', async (t) => {
    const h = setup(t);
    const job = await h.submit();
    await h.service.pause('echo');
    const w = await h.worker('w-1');
    const claimed = h.nextClaim();
    w.send({ t: 'claim-jobs', ids: [job.id] });
    assert.deepEqual((await claimed).jobs, []);
    await new Promise(setImmediate);
    const refused = w.next('refused');
    h.clock.advance(60_000);
    assert.deepEqual(await refused, { t: 'refused', ids: [job.id], requeue: true });
    h.gateway.resumed('echo');
    await new Promise(setImmediate);
    assert.deepEqual(
      w.received.map((m) => m.t),
      ['refused'],
      'handed back once: the resume does not claim it again',
    );
  });
});
