import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waiting, type WaitingInput } from '../../src/jobs/waiting.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const NOW = 1_700_000_000_000;
const base: WaitingInput = {
  job: { state: 'queued', runAt: NOW },
  now: NOW,
  position: 4,
  workers: [{ state: 'busy' }, { state: 'busy' }],
  max: 5,
  perMinute: 0,
  runnable: true,
};
const w = (...states: WaitingInput['workers'][number]['state'][]) =>
  states.map((state) => ({ state }));

const table: [string, Partial<WaitingInput>, string][] = [
  ['no worker at all', { workers: [] }, 'no_worker'],
  ['only draining workers count as none', { workers: w('draining') }, 'no_worker'],
  ['every worker starting', { workers: w('starting', 'starting') }, 'scaling_up'],
  ['all busy at max', { max: 2 }, 'concurrency_cap'],
  ['at max with an idle one: its turn comes', { max: 2, workers: w('busy', 'idle') }, 'queued'],
  ['busy below max', {}, 'queued'],
  ['a retry in backoff', { job: { state: 'queued', runAt: NOW + 5000 } }, 'delayed'],
  ['its worker is starting', { job: { state: 'starting', runAt: NOW } }, 'starting'],
  [
    'its pod waits for a node',
    {
      job: { state: 'starting', runAt: NOW },
      startingFor: { reason: 'capacity', message: 'waiting for cluster capacity' },
    },
    'capacity',
  ],
  [
    'its Job waits for the API rate limit',
    {
      job: { state: 'starting', runAt: NOW },
      startingFor: { reason: 'rate_limit', message: 'creating its Job waits 2 s' },
    },
    'rate_limit',
  ],
  ['busy below max, no room for another', { room: 0 }, 'capacity'],
  ['busy below max, room for more', { room: 3 }, 'queued'],
  ['no worker and no room', { workers: [], room: 0 }, 'capacity'],
  ['no room, but an idle worker takes it', { room: 0, workers: w('busy', 'idle') }, 'queued'],
  ['busy below max, global capacity in use', { global: { capacity: 4, used: 4 } }, 'capacity'],
  ['busy below max, global capacity left', { global: { capacity: 4, used: 2 } }, 'queued'],
  ['at max and no room: the type cap comes first', { max: 2, room: 0 }, 'concurrency_cap'],
  ['its type is paused', { hold: { reason: 'paused' } }, 'paused'],
  [
    'its type is paused, even with no worker',
    { hold: { reason: 'paused' }, workers: [] },
    'paused',
  ],
  [
    'its type rate window is full',
    { hold: { reason: 'rate_limit', until: NOW + 700 } },
    'rate_limit',
  ],
  ['its key is at its limit', { hold: { reason: 'key_limit', key: 'acme' } }, 'key_limit'],
  [
    'a retry in backoff, its type paused: the backoff first',
    { hold: { reason: 'paused' }, job: { state: 'queued', runAt: NOW + 5000 } },
    'delayed',
  ],
];
for (const [name, patch, reason] of table) {
  test(`waiting: ${name} → ${reason}`, () => {
    assert.equal(waiting({ ...base, ...patch })?.reason, reason);
  });
}

test('waiting: the estimate is (position + 1) ÷ the recent throughput; unknown without one', () => {
  assert.equal(waiting({ ...base, perMinute: 60 })?.estimatedStartAt, NOW + 5000);
  assert.equal(waiting(base)?.estimatedStartAt, null);
  const delayed = waiting({ ...base, job: { state: 'queued', runAt: NOW + 5000 } });
  assert.equal(delayed?.estimatedStartAt, NOW + 5000, 'a backoff ends at its runAt');
  assert.equal(waiting({ ...base, job: { state: 'running', runAt: NOW } }), null);
});

test('waiting: a rate limit estimates when its window frees a slot, a key limit names its key', () => {
  const rate = waiting({ ...base, hold: { reason: 'rate_limit', until: NOW + 700 } });
  assert.equal(rate?.estimatedStartAt, NOW + 700);
  const behind = waiting({
    ...base,
    perMinute: 60,
    hold: { reason: 'rate_limit', until: NOW + 700 },
  });
  assert.equal(behind?.estimatedStartAt, NOW + 5000, 'later by its place in line');
  const key = waiting({ ...base, hold: { reason: 'key_limit', key: 'acme' } });
  assert.match(key?.message ?? '', /"acme"/);
  assert.equal(key?.estimatedStartAt, null);
});

let g: TestGaffer | undefined;
after(() => g?.close());

test('GET /v1/jobs/:id of a queued job says why it waits, where it is in line, and when', async () => {
  // scaling.max 0: no worker ever comes for it.
  g = await startGaffer({
    jobTypes: { render: { mode: 'per-job', worker: { command: ['true'] }, scaling: { max: 0 } } },
  });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'render' },
    });
    ids.push(res.json().job.id);
  }
  const res = await g.app.inject({ method: 'GET', url: `/v1/jobs/${ids[2]}` });
  assert.deepEqual(res.json().job.waiting, {
    reason: 'no_worker',
    message: 'no worker of its type yet: the autoscaler starts one',
    position: 2,
    estimatedStartAt: null,
  });
});
