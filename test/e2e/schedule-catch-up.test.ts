import assert from 'node:assert/strict';
import { setTimeout as pause } from 'node:timers/promises';
import { test } from 'node:test';
import { api, gafferDir, spawnGaffer, untilEvent } from '../helpers/process.ts';

/**
 * Ticks missed while `gaffer up` was stopped fire on its restart as each schedule's `missed` policy
 * says: `{ catchUp: 3 }` the three latest, oldest first; `skip` the latest only (within the grace).
 * The times are the store's: each job's tick is its idempotency key, its creation its `createdAt`.
 */
const TICKS = 10;
const KEY = /^schedule:[a-z-]+:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/;

interface TickJob {
  id: string;
  type: string;
  idempotencyKey?: string;
  createdAt: number;
}

const tickOf = (job: TickJob): number => Date.parse(KEY.exec(job.idempotencyKey ?? '')![1]!);

async function fired(url: string, type: string): Promise<TickJob[]> {
  const { jobs } = await api<{ jobs: TickJob[] }>(url, `/v1/jobs?type=${type}&limit=1000`);
  return jobs.sort((x, y) => tickOf(x) - tickOf(y));
}

async function put(url: string, name: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/v1/schedules/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.text());
}

test('after downtime: catchUp 3 fires the three latest missed ticks oldest first; skip the latest', async (t) => {
  const type = (name: string) => `${name}: { worker: { command: ['true'] }, scaling: { max: 0 } }`;
  const { args } = gafferDir('gaffer-catch-up-', [
    'autoscaler: { intervalMs: 100 }',
    'jobTypes:',
    `  ${type('caught')}`,
    `  ${type('skipped')}`,
  ]);
  const first = await spawnGaffer(args);
  // TICKS whole seconds from 2 s ahead (a new schedule fires no past tick): the cron's seconds
  // field lists them, so nothing else is due before the next minute's.
  const t0 = Math.ceil(Date.now() / 1000) * 1000 + 2000;
  const ticks = Array.from({ length: TICKS }, (_, i) => t0 + i * 1000);
  const cron = `${ticks.map((x) => new Date(x).getUTCSeconds()).join(',')} * * * * *`;
  const restartedAt = await (async () => {
    try {
      await put(first.url, 'catch-up', {
        cron,
        submit: { type: 'caught' },
        missed: { catchUp: 3 },
      });
      await put(first.url, 'skip', { cron, submit: { type: 'skipped' }, missed: 'skip' });
      // Up for the first tick of each, then stopped.
      await untilEvent(
        first.url,
        async () =>
          (await fired(first.url, 'caught')).length > 0 &&
          (await fired(first.url, 'skipped')).length > 0,
      );
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
    // The downtime itself (the scenario, not a wait for an event): down past the last tick.
    await pause(Math.max(0, ticks.at(-1)! + 300 - Date.now()));
    return Date.now();
  })();

  const second = await spawnGaffer(args);
  try {
    const { caught, skipped } = await (async () => {
      let caught: TickJob[] = [];
      let skipped: TickJob[] = [];
      await untilEvent(second.url, async () => {
        caught = await fired(second.url, 'caught');
        skipped = await fired(second.url, 'skipped');
        const late = (jobs: TickJob[]) => jobs.filter((j) => j.createdAt >= restartedAt).length;
        return late(caught) >= 3 && late(skipped) >= 1;
      });
      return { caught, skipped };
    })();

    for (const [jobs, expectedAfter] of [
      [caught, 3],
      [skipped, 1],
    ] as const) {
      const before = jobs.filter((j) => j.createdAt < restartedAt).map(tickOf);
      const after = jobs.filter((j) => j.createdAt >= restartedAt);
      const last = Math.max(...before);
      assert.deepEqual(
        before,
        ticks.filter((x) => x <= last),
        'before the stop, every tick fired',
      );
      const missed = ticks.filter((x) => x > last);
      assert.ok(missed.length > 3, `more ticks missed than caught up: ${missed.length}`);
      assert.deepEqual(
        after.map(tickOf),
        missed.slice(-expectedAfter),
        `${jobs[0]!.type}: the ${expectedAfter} latest missed ticks, and none older`,
      );
      const created = after.map((j) => j.createdAt);
      assert.deepEqual(
        created,
        [...created].sort((x, y) => x - y),
        'fired oldest first',
      );
      t.diagnostic(`${jobs[0]!.type}: ${missed.length} ticks missed, ${after.length} fired`);
    }
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
