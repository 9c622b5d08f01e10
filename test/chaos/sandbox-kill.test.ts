import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { check, type Fault, type LedgerEntry } from '../../chaos/checker.ts';
import { readEffects, readLedger } from '../../chaos/observe.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

// The cause of "1 duplicate execution no fault explains" (redis × worker-kill): a job
// whose worker was killed is a suspect, so its next attempt runs in a sandbox — a child process of
// its worker, with a pid of its own. When the next kill hits that worker after the sandbox's
// handler completed (its `end` line written) but before the result reached the store, the
// execution is lost with the worker and the job runs again: a duplicate the kill explains. The
// harness recorded only the worker's pid, so the checker saw no fault on the sandbox's pid. Here
// the race is made certain: the worker is stopped (as CPU load can leave it unscheduled) while its
// sandbox completes, then killed. The ledger now names each execution's parent, and the checker
// counts a fault on the worker against its sandboxes too.
const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-sandbox-kill-'));
let g: TestGaffer;

before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      chaos: {
        worker: { handler: 'chaos/handler.ts', env: { CHAOS_DIR: dir } },
        concurrency: 1,
        retry: { maxAttempts: 5, backoffMs: 0 },
        scaling: { min: 0, max: 1 },
      },
    },
  });
});
after(async () => {
  await g.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The first ledger line that `pick` accepts, polled (the workers append to the file). */
async function line(pick: (e: LedgerEntry) => boolean): Promise<LedgerEntry> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = readLedger(dir).find(pick);
    if (found) return found;
    if (Date.now() > deadline) throw new Error('no such ledger line within 60 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a sandboxed execution completed as its worker is killed: the kill explains the re-run', async () => {
  const res = await g.app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { type: 'chaos', idempotencyKey: 'k1', payload: { key: 'k1', ms: 2000 } },
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().job.id as string;
  const faults: Fault[] = [];
  const kill = (pid: number) => {
    faults.push({ kind: 'worker_lost', at: Date.now(), until: Date.now(), pids: [pid] });
    process.kill(pid, 'SIGKILL');
  };

  // Attempt 1 runs in its worker's process; killed mid-job, the job becomes a suspect.
  const first = await line((e) => e.t === 'start' && e.attempt === 1);
  kill(first.pid);

  // Attempt 2 runs sandboxed: its pid is not its worker's, its parent is.
  const second = await line((e) => e.t === 'start' && e.attempt === 2);
  const worker = g.orch.gateway.workers('chaos').find((w) => w.pid === second.ppid);
  assert.ok(worker, `attempt 2's parent ${second.ppid} is the type's worker`);
  assert.notEqual(second.pid, second.ppid, 'sandboxed: a process of its own');
  // The worker gets no CPU while its sandbox completes, then is killed: the result is lost.
  process.kill(second.ppid!, 'SIGSTOP');
  await line((e) => e.t === 'end' && e.attempt === 2);
  kill(second.ppid!);

  await until(g, async () => (await g.orch.service.get(id)).state === 'succeeded', [
    'job:succeeded',
    'job:retrying',
  ]);
  const job = await g.orch.service.get(id);
  assert.equal(job.attempt, 3);
  const ledger = readLedger(dir);
  const input = {
    submissions: [{ key: 'k1', kind: 'normal' as const, jobId: id }],
    ledger,
    jobs: [
      {
        id,
        idempotencyKey: 'k1',
        state: job.state,
        attempt: job.attempt,
        nonce: (job.result as { nonce: string }).nonce,
      },
    ],
    effects: readEffects(dir),
    faults,
    residue: { unfinished: 0, brokerMessages: 0, orphans: 0 },
    maxAttempts: 5,
    maxInFlight: 1,
    refused: {},
  };
  const report = check(input);
  assert.deepEqual(report.problems, []);
  assert.equal(report.dupExec, 1, 'attempt 2 completed, and the job ran again');
  assert.deepEqual(report.dupReasons, { worker_lost: 1 });
  assert.equal(report.sandboxed, 1, 'explained by the kill of its parent, the worker');

  // What the checker saw before it knew an execution's parent: a duplicate no fault explains.
  const bare = ledger.map(({ ppid: _, ...e }) => e);
  assert.equal(check({ ...input, ledger: bare }).unexplained, 1);
});
