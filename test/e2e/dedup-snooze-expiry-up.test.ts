import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ApiJob, Attempt } from '../../src/client/index.ts';
import {
  getJob,
  jobEnded,
  spawnGaffer,
  untilEvent,
  type GafferProcess,
} from '../helpers/process.ts';

/**
 * Each dedup mode, a snooze and a queue-wait expiry through the real `gaffer up`, with its jobs
 * run by real workers: what each mode returns, and what then runs (or, expired, never does).
 * A paused type holds submissions queued while a test makes its second one.
 */
const DIR = mkdtempSync(path.join(os.tmpdir(), 'gaffer-up-dedup-'));
const MARKERS = mkdtempSync(path.join(DIR, 'markers-'));
// Snoozes (exit 75 with a snoozeMs result) the first time it sees a job, then succeeds.
const SNOOZING = `m="${MARKERS}/$GAFFER_JOB_ID"
if [ ! -e "$m" ]; then touch "$m"; echo '{"gaffer":{"snoozeMs":300}}'; exit 75; fi
echo '"done"'`;

let g: GafferProcess;
before(async () => {
  const config = path.join(DIR, 'gaffer.yaml');
  const lines = [
    'autoscaler: { intervalMs: 100 }',
    'leases: { ttlMs: 10000, sweepMs: 200 }',
    'jobTypes:',
    '  echo:',
    '    worker: { handler: test/e2e/fixtures/handlers.ts#row }',
    '    scaling: { min: 0, max: 1 }',
    '  snoozer:',
    `    worker: { command: [sh, -c, ${JSON.stringify(SNOOZING)}] }`,
    '    retry: { maxAttempts: 1 }',
    '    scaling: { min: 0, max: 1 }',
    '  held:',
    "    worker: { command: ['true'] }",
    '    scaling: { min: 0, max: 0 }',
  ];
  writeFileSync(config, lines.join('\n'));
  g = await spawnGaffer(['--config', config, '--data-dir', path.join(DIR, 'data')]);
});
after(async () => {
  g.child.kill('SIGTERM');
  await g.exited;
  // Removed once gaffer has exited, not before.
  rmSync(DIR, { recursive: true, force: true });
});

async function submit(body: object): Promise<{ status: number; job: ApiJob }> {
  const res = await fetch(`${g.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { job: ApiJob };
  return { status: res.status, job: json.job };
}

async function post(url: string): Promise<void> {
  const res = await fetch(`${g.url}${url}`, { method: 'POST' });
  assert.equal(res.status, 200, await res.text());
}

describe('dedup modes through gaffer up', () => {
  test('live: a second submission returns the queued job; once it ended, a new job runs', async () => {
    const sub = (id: string) =>
      submit({ type: 'echo', payload: { id }, idempotencyKey: 'k-live', dedup: { mode: 'live' } });
    await post('/v1/types/echo/pause');
    const first = await sub('1');
    const again = await sub('2');
    assert.deepEqual([first.status, again.status], [201, 200]);
    assert.equal(again.job.id, first.job.id, 'the live job');
    await post('/v1/types/echo/resume');
    const ended = await jobEnded(g.url, first.job.id);
    assert.deepEqual([ended.state, ended.result], ['succeeded', { id: '1' }]);
    const next = await sub('3');
    assert.equal(next.status, 201, 'the key is free once its job ended');
    assert.notEqual(next.job.id, first.job.id);
    assert.deepEqual((await jobEnded(g.url, next.job.id)).result, { id: '3' });
  });

  test('ttl: within the period the ended job is returned; it ran once', async () => {
    const sub = (id: string) =>
      submit({
        type: 'echo',
        payload: { id },
        idempotencyKey: 'k-ttl',
        dedup: { mode: 'ttl', ttlSeconds: 600 },
      });
    const first = await sub('1');
    assert.equal(first.status, 201);
    assert.equal((await jobEnded(g.url, first.job.id)).state, 'succeeded');
    const again = await sub('2');
    assert.deepEqual([again.status, again.job.id], [200, first.job.id]);
    assert.deepEqual(again.job.result, { id: '1' }, 'the first run, not a second');
  });

  test('debounce: the waiting job takes the later payload and due time, and runs once with it', async () => {
    const sub = (id: string) =>
      submit({
        type: 'echo',
        payload: { id },
        idempotencyKey: 'k-debounce',
        dedup: { mode: 'debounce', debounceSeconds: 1 },
      });
    await post('/v1/types/echo/pause');
    const first = await sub('1');
    const again = await sub('2');
    assert.deepEqual([first.status, again.status], [201, 200]);
    assert.equal(again.job.id, first.job.id);
    assert.deepEqual(again.job.payload, { id: '2' });
    assert.ok(again.job.runAt >= first.job.runAt, 'its start pushed back');
    await post('/v1/types/echo/resume');
    const ended = await jobEnded(g.url, first.job.id);
    assert.deepEqual([ended.state, ended.result, ended.attempt], ['succeeded', { id: '2' }, 1]);
    assert.ok(ended.startedAt! >= again.job.runAt, 'not before the debounce window closed');
  });
});

test('a command snoozes (exit 75, snoozeMs): runs again after the delay on the same attempt', async () => {
  const { job } = await submit({ type: 'snoozer' });
  const ended = await jobEnded(g.url, job.id);
  assert.deepEqual([ended.state, ended.attempt], ['succeeded', 1]);
  const res = await fetch(`${g.url}/v1/jobs/${job.id}/attempts`);
  const { attempts } = (await res.json()) as { attempts: Attempt[] };
  assert.deepEqual(
    attempts.map((a) => [a.attempt, a.outcome]),
    [
      [1, 'snoozed'],
      [1, 'succeeded'],
    ],
  );
  assert.ok(attempts[1]!.startedAt! >= attempts[0]!.finishedAt! + 300, 'after the snooze');
});

test('a job not started by its expiry ends expired, never run', async () => {
  const { status, job } = await submit({ type: 'held', expireIn: '1s' });
  assert.equal(status, 201);
  let seen: ApiJob = job;
  await untilEvent(g.url, async () => {
    seen = await getJob(g.url, job.id);
    return seen.state !== 'queued';
  });
  assert.equal(seen.state, 'expired');
  assert.deepEqual([seen.startedAt, seen.attempt], [null, 0], 'never run');
  assert.ok(seen.finishedAt! >= seen.expiresAt!, 'ended once its expiry passed');
});
