import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { api, gafferDir, isAlive, spawnGaffer, untilEvent } from '../helpers/process.ts';
import { stderrLogger } from '../helpers/log.ts';

type JobView = { id: string; state: string; attempt: number };

test('SIGTERM to `gaffer up` lets the running job finish, then exits 0', async () => {
  const { args, dataDir } = gafferDir('gaffer-drain-', [
    'autoscaler: { intervalMs: 100 }',
    'jobTypes:',
    '  work:',
    // The job's own work takes 5 s, so the signal lands while it runs even on a loaded machine
    // (the test waits for `running`; a job that ended first would leave it waiting).
    "    worker: { handler: test/e2e/fixtures/handlers.ts#row, env: { ROW_DELAY_MS: '5000' } }",
    '    scaling: { min: 0, max: 1 }',
  ]);
  const gaffer = await spawnGaffer(args);
  const { job } = await api<{ job: JobView }>(gaffer.url, '/v1/jobs', {
    type: 'work',
    payload: { id: '1' },
  });
  await untilEvent(gaffer.url, async () => {
    const { state } = (await api<{ job: JobView }>(gaffer.url, `/v1/jobs/${job.id}`)).job;
    if (state !== 'queued' && state !== 'running') throw new Error(`ended (${state}) unobserved`);
    return state === 'running';
  });
  gaffer.child.kill('SIGTERM');
  assert.equal(await gaffer.exited, 0);

  const store = createSqliteStore({
    path: path.join(dataDir, 'gaffer.db'),
    synchronous: 'FULL',
    log: stderrLogger(),
  });
  try {
    const after = await store.get(job.id);
    assert.deepEqual(
      [after?.state, after?.attempt],
      ['succeeded', 1],
      'finished once, not retried',
    );
    const events = await store.workerEvents({ type: 'work', limit: 20 });
    assert.ok(
      events.every((e) => e.event !== 'crashed'),
      'the worker was drained, not killed',
    );
  } finally {
    await store.close();
  }
});

/** Resolves once `file` exists (written by a job's command: no event tells the test). */
async function fileWritten(file: string, timeoutMs = 60_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!existsSync(file)) {
    if (performance.now() > until) throw new Error(`${file} not written in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every process whose process group or session is `leader`'s (a job's tree), from /proc. */
function membersOf(leader: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // After the command name: state, ppid, pgrp, session.
      const [state, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z' && (Number(pgrp) === leader || Number(session) === leader)) {
        out.push(Number(name));
      }
    } catch {
      // exited while listed
    }
  }
  return out;
}

test('SIGINT past the drain: no process of the job survives, and the job is handed back unspent', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-stop-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const pids = path.join(dir, 'pids');
  const mark = path.join(dir, 'ran-once');
  // The first run records its shell's pid (its process group's leader) and a grandchild's, then
  // waits for ever, ignoring SIGTERM (only the SIGKILL after the grace ends it); the second run
  // succeeds. One attempt only: a stop that spent it would leave the job failed.
  const script = [
    `if [ -f "${mark}" ]; then echo second run; exit 0; fi`,
    `touch "${mark}"`,
    `trap '' TERM`,
    `sleep 1000 &`,
    `echo "$$ $!" > "${pids}.tmp" && mv "${pids}.tmp" "${pids}"`,
    `wait`,
  ].join('\n');
  const { args, dataDir } = gafferDir('gaffer-stop-', [
    'autoscaler: { intervalMs: 100 }',
    'jobTypes:',
    '  work:',
    `    worker: { command: [sh, -c, ${JSON.stringify(script)}] }`,
    '    retry: { maxAttempts: 1 }',
    '    scaling: { min: 0, max: 1 }',
  ]);
  const first = await spawnGaffer([...args, '--drain-seconds', '1']);
  after(() => void first.child.kill('SIGKILL')); // a failed assertion leaves no gaffer behind
  let out = '';
  first.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const { job } = await api<{ job: JobView }>(first.url, '/v1/jobs', { type: 'work' });
  await fileWritten(pids);
  const [shell, grandchild] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
  const { workers } = await api<{ workers: { pid: number }[] }>(first.url, '/v1/workers');
  const tree = [shell!, grandchild!, ...workers.map((w) => w.pid)];
  assert.ok(tree.every(isAlive), 'the job runs: its shell, its grandchild and the worker');
  assert.ok(membersOf(shell!).includes(grandchild!), 'the grandchild is in the job group');

  // A dashboard is open: its event stream must not hold the stop up (it held `close` for ever).
  const events = await fetch(`${first.url}/v1/events`);
  const watching = (async () => {
    for await (const _ of events.body as AsyncIterable<Uint8Array>) void _;
  })().catch(() => {});

  first.child.kill('SIGINT');
  assert.equal(await first.exited, 0);
  await watching; // ended by gaffer
  for (const pid of tree) assert.equal(isAlive(pid), false, `process ${pid} survived the stop`);
  assert.deepEqual(membersOf(shell!), [], "nothing is left of the job's process group");
  assert.match(out, /drain time is up/);
  assert.match(out, new RegExp(`1 job interrupted by the stop went back to the queue.*${job.id}`));
  assert.doesNotMatch(out, /failed:/);

  const store = createSqliteStore({
    path: path.join(dataDir, 'gaffer.db'),
    synchronous: 'FULL',
    log: stderrLogger(),
  });
  try {
    const stopped = await store.get(job.id);
    assert.deepEqual([stopped?.state, stopped?.attempt], ['queued', 0], 'attempt not spent');
    assert.equal(stopped?.error?.interrupted, true);
    const history = await store.attempts(job.id);
    assert.deepEqual(
      history.map((a) => [a.attempt, a.outcome, a.jobState]),
      [[1, 'interrupted', 'queued']],
    );
  } finally {
    await store.close();
  }

  // Runs again on the next start, with its one attempt.
  const second = await spawnGaffer(args);
  after(() => void second.child.kill('SIGKILL'));
  try {
    const read = async () => (await api<{ job: JobView }>(second.url, `/v1/jobs/${job.id}`)).job;
    await untilEvent(second.url, async () => (await read()).state === 'succeeded');
    assert.equal((await read()).attempt, 1);
  } finally {
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  }
});
