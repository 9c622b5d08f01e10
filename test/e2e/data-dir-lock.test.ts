import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { REPO } from '../helpers/gaffer.ts';
import { api, gafferDir, spawnGaffer, untilEvent } from '../helpers/process.ts';
import { stderrLogger } from '../helpers/log.ts';

type JobView = { id: string; state: string; attempt: number };

/** `gaffer up` run to its end: exit code, stderr, and how long it took. */
function upRefused(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const began = performance.now();
  const child = spawn(process.execPath, ['src/cli/main.ts', 'up', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    // A second gaffer that does not refuse hangs or runs: fail instead of waiting for it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gaffer up did not exit in 60 s; stderr: ${stderr}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: performance.now() - began });
    });
  });
}

test('a second `gaffer up` on the same data folder is refused at once; the first runs on untouched', async () => {
  const { args, dataDir } = gafferDir('gaffer-lock-', [
    'autoscaler: { intervalMs: 100 }',
    'jobTypes:',
    '  hold:',
    // Runs until the test creates its release file: it is running for as long as the test needs.
    `    worker: { command: [sh, -c, 'while [ ! -f "$RELEASE" ]; do sleep 0.05; done; echo held'] }`,
    '    retry: { maxAttempts: 1 }',
    '    scaling: { min: 0, max: 1 }',
  ]);
  const release = path.join(path.dirname(dataDir), 'release');
  const first = await spawnGaffer(args, { RELEASE: release });
  try {
    const { job } = await api<{ job: JobView }>(first.url, '/v1/jobs', { type: 'hold' });
    const read = async () => (await api<{ job: JobView }>(first.url, `/v1/jobs/${job.id}`)).job;
    await untilEvent(first.url, async () => (await read()).state === 'running');

    const port = new URL(first.url).port;
    for (const [what, extra] of [
      ['the same port', ['--port', port]],
      ['another port', ['--port', '0']],
    ] as const) {
      const second = await upRefused([...args, ...extra]);
      assert.equal(second.code, 7, `${what}: exit code (stderr: ${second.stderr})`);
      assert.match(second.stderr, /GAFFER_DATA_DIR_IN_USE/, what);
      assert.match(
        second.stderr,
        new RegExp(`pid ${first.child.pid} on .*serving ${first.url}`),
        `${what}: the refusal names the holder`,
      );
      // "At once": no store opened, no recovery, no wait for anything but Node's own start.
      assert.ok(second.ms < 30_000, `${what}: refused after ${Math.round(second.ms)} ms`);
      const now = await read();
      assert.deepEqual([now.state, now.attempt], ['running', 1], `${what}: the first's job`);
    }

    writeFileSync(release, '');
    await untilEvent(first.url, async () => (await read()).state === 'succeeded');
    assert.equal((await read()).attempt, 1, 'ran once');
  } finally {
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
  }
  const store = createSqliteStore({
    path: path.join(dataDir, 'gaffer.db'),
    synchronous: 'FULL',
    log: stderrLogger(),
  });
  try {
    const [only, ...rest] = (await store.list({ limit: 10 })).jobs;
    const attempts = await store.attempts(only!.id);
    assert.equal(rest.length, 0);
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.outcome]),
      [[1, 'succeeded']],
      'one attempt, never taken for an orphan',
    );
  } finally {
    await store.close();
  }
});

test('`gaffer up` on a port that is taken exits non-zero at once, before it opens its store', async () => {
  const first = gafferDir('gaffer-port-a-', ['jobTypes: {}']);
  const other = gafferDir('gaffer-port-b-', ['jobTypes: {}']);
  const running = await spawnGaffer(first.args);
  try {
    const port = new URL(running.url).port;
    const second = await upRefused([...other.args, '--port', port]);
    assert.equal(second.code, 7, second.stderr);
    assert.match(second.stderr, new RegExp(`GAFFER_PORT_IN_USE: .*127\\.0\\.0\\.1:${port}`));
    assert.equal(existsSync(path.join(other.dataDir, 'gaffer.db')), false, 'no store opened');
  } finally {
    running.child.kill('SIGTERM');
    await running.exited;
  }
});
