import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createGaffer, snooze, type JobContext } from 'gaffer';

/**
 * Dedup modes and snooze through the library: real in-process workers, the real store. A held
 * idempotency key yields the live job (live), the first job within its ttl (ttl), or the waiting
 * job with its payload replaced (debounce); a handler's snooze spends no attempt.
 */

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function store() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-dedup-'));
  dirs.push(dir);
  return { store: { dataDir: dir, synchronous: 'NORMAL' as const } };
}

test('live: a second submission while the job runs returns it; once it ended, a new job', async (t) => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const gaffer = await createGaffer({
    config: store(),
    jobs: {
      sync: {
        handler: async (ctx: JobContext<{ n: number }>) => {
          started();
          if (ctx.payload.n === 1) await held;
          return ctx.payload.n;
        },
      },
    },
  });
  t.after(() => gaffer.close());
  const dedup = { mode: 'live' } as const;
  const first = await gaffer.submit('sync', { n: 1 }, { idempotencyKey: 'acct-7', dedup });
  await running;
  const second = await gaffer.submit('sync', { n: 2 }, { idempotencyKey: 'acct-7', dedup });
  assert.deepEqual([second.job.id, second.created], [first.job.id, false], 'the live job');
  release();
  assert.equal(await first.result(), 1);
  const third = await gaffer.submit('sync', { n: 3 }, { idempotencyKey: 'acct-7', dedup });
  assert.equal(third.created, true, 'the first ended: a new job');
  assert.equal(await third.result(), 3);
});

test('debounce: later submissions replace the waiting payload; one run, with the last', async (t) => {
  const ran: number[] = [];
  const gaffer = await createGaffer({
    config: store(),
    jobs: { reindex: { handler: (ctx: JobContext<{ v: number }>) => ran.push(ctx.payload.v) } },
  });
  t.after(() => gaffer.close());
  const dedup = { mode: 'debounce', debounceSeconds: 1 } as const;
  const handles = [];
  for (const v of [1, 2, 3]) {
    handles.push(await gaffer.submit('reindex', { v }, { idempotencyKey: 'doc-1', dedup }));
  }
  assert.equal(new Set(handles.map((h) => h.job.id)).size, 1, 'one job');
  await handles[0]!.result();
  assert.deepEqual(ran, [3], 'ran once, with the last payload');
});

test('ttl: within it the first job; a submission in another mode is independent of it', async (t) => {
  const gaffer = await createGaffer({
    config: store(),
    jobs: { report: { handler: (ctx: JobContext<number>) => ctx.payload } },
  });
  t.after(() => gaffer.close());
  const dedup = { mode: 'ttl', ttlSeconds: 3600 } as const;
  const first = await gaffer.submit('report', 1, { idempotencyKey: 'daily', dedup });
  await first.result();
  const again = await gaffer.submit('report', 2, { idempotencyKey: 'daily', dedup });
  assert.deepEqual([again.job.id, again.created], [first.job.id, false], 'ended, but in its ttl');
});

test('a handler that snoozes runs again on the same attempt', async (t) => {
  let calls = 0;
  const gaffer = await createGaffer({
    config: store(),
    jobs: {
      poll: {
        retry: { maxAttempts: 1 },
        handler: (ctx: JobContext) => {
          calls += 1;
          if (calls < 3) throw snooze(50);
          return ctx.attempt;
        },
      },
    },
  });
  t.after(() => gaffer.close());
  const handle = await gaffer.submit('poll', null);
  assert.equal(await handle.result(), 1, 'three runs, one attempt');
  assert.equal(calls, 3);
});
