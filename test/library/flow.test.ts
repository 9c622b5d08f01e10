import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createGaffer, type JobContext } from 'gaffer';

/**
 * Flow control end to end, through the library: real workers (in-process handlers), the real
 * store and autoscaler. Times asserted are the store's own start records (gaffer's clock at each
 * claim), which the limit governs — never how long the machine took.
 */

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function store() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-flow-'));
  dirs.push(dir);
  return { store: { dataDir: dir, synchronous: 'NORMAL' as const } };
}

test('a type limited to 4 starts per second never starts a 5th within a second of the 1st', async (t) => {
  const gaffer = await createGaffer({
    config: store(),
    jobs: {
      limited: {
        concurrency: 4,
        rateLimit: { starts: 4, perSeconds: 1 },
        scaling: { max: 3 },
        handler: () => 'ok',
      },
    },
  });
  t.after(() => gaffer.close());
  const handles = [];
  for (let i = 0; i < 12; i++) handles.push(await gaffer.submit('limited', null));
  await Promise.all(handles.map((h) => h.result()));
  const starts = (await Promise.all(handles.map((h) => gaffer.job(h.job.id))))
    .map((j) => j.startedAt!)
    .sort((a, b) => a - b);
  for (let i = 0; i + 4 < starts.length; i++) {
    assert.ok(
      starts[i + 4]! - starts[i]! >= 1000,
      `starts ${i} and ${i + 4} are ${starts[i + 4]! - starts[i]!} ms apart`,
    );
  }
});

test("with 2 running per key, one key's backlog never holds back another key's jobs", async (t) => {
  let releaseBig!: () => void;
  const smallDone = new Promise<void>((resolve) => (releaseBig = resolve));
  const running = new Map<string, number>();
  let bigPeak = 0;
  let smallFinished = 0;
  const gaffer = await createGaffer({
    config: store(),
    jobs: {
      tenantJob: {
        concurrency: 8,
        keyLimit: { key: 'payload.tenant', running: 2 },
        scaling: { max: 1 },
        handler: async (ctx: JobContext<{ tenant: string }>) => {
          const tenant = ctx.payload.tenant;
          running.set(tenant, (running.get(tenant) ?? 0) + 1);
          if (tenant === 'big') bigPeak = Math.max(bigPeak, running.get(tenant)!);
          // The big key's jobs finish only once every small one has: were the small key's jobs
          // queued behind the big key's backlog, this would never end.
          if (tenant === 'big') await smallDone;
          running.set(tenant, running.get(tenant)! - 1);
          if (tenant === 'small' && ++smallFinished === 5) releaseBig();
          return tenant;
        },
      },
    },
  });
  t.after(() => gaffer.close());
  const big = [];
  for (let i = 0; i < 40; i++) big.push(await gaffer.submit('tenantJob', { tenant: 'big' }));
  const small = [];
  for (let i = 0; i < 5; i++) small.push(await gaffer.submit('tenantJob', { tenant: 'small' }));
  await Promise.all(small.map((h) => h.result()));
  await Promise.all(big.map((h) => h.result()));
  assert.equal(bigPeak, 2, 'the big key ran at most 2 at once, and did reach 2');
});
