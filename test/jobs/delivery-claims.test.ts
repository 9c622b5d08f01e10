import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { Clock, Scheduler } from '../../src/domain/clock.ts';
import {
  DeliveryClaims,
  HOLD_RETRY_MS,
  PAUSE_HOLD_MS,
  type DeliveringWorker,
} from '../../src/jobs/delivery-claims.ts';
import type { GafferMessage } from '../../src/worker/protocol.ts';
import { jobsHarness, type JobsHarness } from '../helpers/jobs.ts';

// The claims of a broker-fed worker's deliveries on their own, against the real job service on a
// manual clock: when held deliveries go back. What the gateway makes of them end to end (a rate
// window's hand-back, parking, a pause's hold and resume) is test/jobs/flow.test.ts.

const ECHO = { worker: { command: ['true'] } };

function setup(t: TestContext, raw: Record<string, unknown> = {}, timers = true) {
  const h: JobsHarness = jobsHarness(raw);
  t.after(() => h.close());
  const w: DeliveringWorker = { info: { id: 'w-1', type: 'echo', state: 'idle' } };
  const sent: GafferMessage[] = [];
  /** The ids claimed and assigned to the worker, in order. */
  const assigned: string[] = [];
  const clock: Clock & Partial<Scheduler> = timers ? h.clock : { now: () => h.clock.now() };
  const claims = new DeliveryClaims({
    ...{ service: h.service, clock, log: h.log, parking: null },
    host: {
      stopping: () => false,
      tracked: () => true,
      send: (_, msg) => void sent.push(msg),
      assign: (_, jobs) => void assigned.push(...jobs.map((j) => j.id)),
    },
  });
  /** Delivers `ids` and resolves once their claim was answered and acted on. */
  const deliver = async (...ids: string[]) => {
    const answered = h.nextClaim();
    claims.delivered(w, ids);
    await answered;
    await new Promise(setImmediate);
  };
  const refused = () => sent.flatMap((m) => (m.t === 'refused' ? [[m.ids, m.requeue]] : []));
  return { h, w, assigned, claims, deliver, refused };
}

describe('delivery claims: when held deliveries go back', () => {
  test("a delivery its key's starts window holds goes back a retry interval on, not at once", async (t) => {
    const { h, deliver, refused, assigned } = setup(t, {
      jobTypes: {
        echo: {
          ...ECHO,
          concurrency: 2,
          keyLimit: { key: 'payload.tenant', starts: 1, perSeconds: 60 },
        },
      },
    });
    const submit = () => h.submit('echo', { payload: { tenant: 'a' } });
    const [a, b] = [await submit(), await submit()];
    await deliver(a.id, b.id);
    assert.deepEqual(assigned, [a.id], 'the first one runs');
    h.clock.advance(HOLD_RETRY_MS - 1);
    assert.deepEqual(refused(), [], 'held, not spun on');
    h.clock.advance(1);
    assert.deepEqual(refused(), [[[b.id], true]]);
  });

  test("paused: each turn's deliveries go back a pause hold after their own claim; resumed, only those still held are claimed", async (t) => {
    const { h, w, claims, deliver, refused, assigned } = setup(t);
    const [a, b] = [await h.submit(), await h.submit()];
    await h.service.pause('echo');
    await deliver(a.id);
    h.clock.advance(PAUSE_HOLD_MS / 2);
    await deliver(b.id);
    h.clock.advance(PAUSE_HOLD_MS / 2 - 1);
    assert.deepEqual(refused(), []);
    h.clock.advance(1);
    assert.deepEqual(refused(), [[[a.id], true]], 'the first turn goes back; the second is held');

    await h.service.resume('echo');
    const claimed = h.nextClaim();
    claims.resumed(w);
    assert.deepEqual((await claimed).request.jobIds, [b.id]);
    await new Promise(setImmediate);
    assert.deepEqual(assigned, [b.id]);
    h.clock.advance(PAUSE_HOLD_MS);
    assert.deepEqual(refused(), [[[a.id], true]], 'claimed: its hold ends without a hand-back');
  });

  test('without timers, a paused or rate-held delivery goes back at once', async (t) => {
    const { h, deliver, refused } = setup(
      t,
      { jobTypes: { echo: { ...ECHO, concurrency: 2, rateLimit: { starts: 1, perSeconds: 5 } } } },
      false,
    );
    const [a, b] = [await h.submit(), await h.submit()];
    await deliver(a.id, b.id);
    assert.deepEqual(refused(), [[[b.id], true]], 'rate-held');
    await h.service.pause('echo');
    const c = await h.submit();
    await deliver(c.id);
    assert.deepEqual(refused(), [
      [[b.id], true],
      [[c.id], true],
    ]);
  });
});
