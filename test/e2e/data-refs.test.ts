import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../src/domain/job.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * Local data references are confined to the operator's roots (`storage.local.roots`): refused at
 * submit when they name a path outside them (or any local path when none is listed), refused by
 * the worker when they resolve outside them, bounded in files and bytes, and stopped by a cancel.
 */

const base = mkdtempSync(path.join(os.tmpdir(), 'gaffer-data-refs-'));
const root = path.join(base, 'root');
const secret = path.join(base, 'secret');
mkdirSync(root);
mkdirSync(secret);
writeFileSync(path.join(secret, 'key'), 'secret');
after(() => rmSync(base, { recursive: true, force: true }));

async function post(g: TestGaffer, url: string, payload: object) {
  return g.app.inject({ method: 'POST', url, payload });
}

function expectRefusal(res: { statusCode: number; body: string }, status: number, code: string) {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(JSON.parse(res.body).error.code, code, res.body);
}

describe('with no roots configured (the default), local paths are refused at submit', () => {
  let g: TestGaffer;
  before(async () => {
    g = await startGaffer({
      jobTypes: { held: { worker: { command: ['true'] }, scaling: { max: 0 } } },
    });
  });
  after(() => g?.close());

  for (const ref of ['/etc/passwd', 'file:///etc/passwd', '/', '/root/', `${root}/x.csv`]) {
    test(`input ${ref}: 403 GAFFER_DATA_REF_FORBIDDEN`, async () => {
      const res = await post(g, '/v1/jobs', { type: 'held', data: { inputs: [ref] } });
      expectRefusal(res, 403, 'GAFFER_DATA_REF_FORBIDDEN');
      assert.match(JSON.parse(res.body).error.message, /local paths are off/);
    });
  }

  test('an output directory: 403, as an input', async () => {
    const res = await post(g, '/v1/jobs', { type: 'held', data: { output: '/tmp/anywhere/' } });
    expectRefusal(res, 403, 'GAFFER_DATA_REF_FORBIDDEN');
  });

  for (const ref of [
    'file:///etc/../etc/passwd',
    'file:///tmp/%2e%2e/etc/passwd',
    '/tmp/../etc/passwd',
    's3://bucket/in/../../x',
    's3://bucket/in/a\0b',
  ]) {
    test(`${JSON.stringify(ref)}: 400 GAFFER_DATA_REF_INVALID`, async () => {
      const res = await post(g, '/v1/jobs', { type: 'held', data: { inputs: [ref] } });
      expectRefusal(res, 400, 'GAFFER_DATA_REF_INVALID');
    });
  }

  test('a batch refuses each such item with its code and accepts the rest', async () => {
    const res = await post(g, '/v1/jobs/batch', {
      jobs: [
        { type: 'held', data: { inputs: ['/etc/passwd'] } },
        { type: 'held', data: { inputs: ['s3://bucket/a/../b'] } },
        { type: 'held', data: { inputs: ['s3://bucket/in/x.csv'] } },
      ],
    });
    assert.equal(res.statusCode, 201, res.body);
    const out = res.json() as { accepted: number; rejected: { index: number; code: string }[] };
    assert.equal(out.accepted, 1);
    assert.deepEqual(
      out.rejected.map((r) => [r.index, r.code]),
      [
        [0, 'GAFFER_DATA_REF_FORBIDDEN'],
        [1, 'GAFFER_DATA_REF_INVALID'],
      ],
    );
  });
});

describe('with a root, only paths below it are accepted and workers confine them too', () => {
  let g: TestGaffer;
  const marker = path.join(base, 'ran');
  before(async () => {
    g = await startGaffer({
      autoscaler: { intervalMs: 50 },
      storage: { local: { roots: [root] }, maxFilesPerJob: 200, maxBytesPerJob: 1000 },
      jobTypes: {
        held: { worker: { command: ['true'] }, scaling: { max: 0 } },
        copy: {
          worker: {
            command: [
              'sh',
              '-c',
              'touch "$MARKER"; cp -r "$GAFFER_INPUT_DIR/." "$GAFFER_OUTPUT_DIR"',
            ],
            env: { MARKER: marker },
          },
          retry: { maxAttempts: 3, backoffMs: 0 },
          deadLetter: false,
          scaling: { max: 1 },
        },
      },
    });
  });
  after(() => g?.close());

  async function ended(id: string): Promise<Job> {
    let job: Job | undefined;
    await until(g, async () => {
      job = await g.orch.service.get(id);
      return ['succeeded', 'failed', 'dead_lettered', 'cancelled'].includes(job.state);
    });
    return job!;
  }

  test('submit: below the root 201; outside it, a sibling or `..`, refused', async () => {
    const ok = await post(g, '/v1/jobs', {
      type: 'held',
      data: { inputs: [`${root}/in/`, `file://${root}/x.csv`], output: `${root}/out/` },
    });
    assert.equal(ok.statusCode, 201, ok.body);
    for (const ref of ['/etc/passwd', '/', `${root}-other/x`, `${secret}/key`, base]) {
      const res = await post(g, '/v1/jobs', { type: 'held', data: { inputs: [ref] } });
      expectRefusal(res, 403, 'GAFFER_DATA_REF_FORBIDDEN');
      assert.match(res.json().error.message, /outside every local data root/);
    }
    for (const ref of [`${root}/../secret/key`, `file://${root}/%2e%2e/secret/key`]) {
      const res = await post(g, '/v1/jobs', { type: 'held', data: { inputs: [ref] } });
      expectRefusal(res, 400, 'GAFFER_DATA_REF_INVALID');
    }
    const out = await post(g, '/v1/jobs', { type: 'held', data: { output: `${secret}/` } });
    expectRefusal(out, 403, 'GAFFER_DATA_REF_FORBIDDEN');
  });

  test('a symlink in the root leading outside fails the job at once, nothing copied', async () => {
    await mkdir(path.join(root, 'escape'));
    await writeFile(path.join(root, 'escape', 'ok.txt'), 'ok');
    await symlink(path.join(secret, 'key'), path.join(root, 'escape', 'key'));
    const res = await post(g, '/v1/jobs', {
      type: 'copy',
      data: { inputs: [`${root}/escape/`], output: `${root}/escape-out/` },
    });
    assert.equal(res.statusCode, 201, res.body);
    const done = await ended(res.json().job.id);
    assert.equal(done.state, 'failed', JSON.stringify(done.error));
    assert.equal(done.attempt, 1, 'not retried: the same reference would be refused again');
    assert.equal(done.error?.class, 'application');
    assert.equal(done.error?.retryable, false);
    assert.match(done.error?.message ?? '', /escape\/key: leads outside the local data roots/);
    assert.equal(existsSync(path.join(root, 'escape-out')), false);
    assert.equal(existsSync(marker), false, 'the command never ran');
  });

  test('inputs over the caps on files or bytes fail the job, not retried', async () => {
    await mkdir(path.join(root, 'big'));
    await writeFile(path.join(root, 'big', 'a.bin'), 'x'.repeat(600));
    await writeFile(path.join(root, 'big', 'b.bin'), 'x'.repeat(600));
    const bytes = await post(g, '/v1/jobs', { type: 'copy', data: { inputs: [`${root}/big/`] } });
    const tooBig = await ended(bytes.json().job.id);
    assert.equal(tooBig.state, 'failed');
    assert.equal(tooBig.attempt, 1);
    assert.equal(tooBig.error?.retryable, false);
    assert.match(tooBig.error?.message ?? '', /more than 1000 bytes \(storage\.maxBytesPerJob\)/);

    await mkdir(path.join(root, 'wide'));
    for (let i = 0; i < 201; i++) await writeFile(path.join(root, 'wide', `${i}`), '');
    const files = await post(g, '/v1/jobs', { type: 'copy', data: { inputs: [`${root}/wide/`] } });
    const tooMany = await ended(files.json().job.id);
    assert.equal(tooMany.state, 'failed');
    assert.equal(tooMany.error?.retryable, false);
    assert.match(tooMany.error?.message ?? '', /more than 200 files and directory entries/);
    assert.equal(existsSync(marker), false, 'the command never ran');
  });

  test('an output that would go through a symlink out of the root is refused', async () => {
    await mkdir(path.join(root, 'src'));
    await writeFile(path.join(root, 'src', 'r.txt'), 'r');
    await symlink(secret, path.join(root, 'planted'));
    const res = await post(g, '/v1/jobs', {
      type: 'copy',
      data: { inputs: [`${root}/src/`], output: `${root}/planted/out/` },
    });
    const done = await ended(res.json().job.id);
    assert.equal(done.state, 'failed', JSON.stringify(done.error));
    assert.equal(done.error?.retryable, false);
    assert.match(done.error?.message ?? '', /uploading output .* leads outside/);
    assert.equal(existsSync(path.join(secret, 'out')), false);
    rmSync(marker, { force: true });
  });
});

describe('network workers get the roots and caps from GET /v1/config', () => {
  let g: TestGaffer;
  before(async () => {
    g = await startGaffer({
      server: { workerToken: 'data-refs-worker-token-0123456789' },
      executor: { transport: 'network' },
      autoscaler: { intervalMs: 50 },
      storage: { local: { roots: [root] }, maxBytesPerJob: 1000 },
      jobTypes: {
        copy: {
          mode: 'per-job',
          worker: { command: ['sh', '-c', 'cp -r "$GAFFER_INPUT_DIR/." "$GAFFER_OUTPUT_DIR"'] },
          retry: { maxAttempts: 1 },
          deadLetter: false,
          scaling: { max: 2 },
        },
      },
    });
  });
  after(() => g?.close());

  test('inside the root a job runs; a link out of it, or too many bytes, is refused', async () => {
    await mkdir(path.join(root, 'net', 'in'), { recursive: true });
    await writeFile(path.join(root, 'net', 'in', 'a.txt'), 'a');
    await mkdir(path.join(root, 'net', 'out-link'));
    await symlink(path.join(secret, 'key'), path.join(root, 'net', 'out-link', 'key'));
    await mkdir(path.join(root, 'net', 'big'));
    await writeFile(path.join(root, 'net', 'big', 'b.bin'), 'x'.repeat(1001));
    const submit = async (input: string) => {
      const res = await post(g, '/v1/jobs', {
        type: 'copy',
        data: { inputs: [input], output: `${root}/net/result-${path.basename(input)}/` },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().job.id as string;
    };
    const ids = [
      await submit(`${root}/net/in/`),
      await submit(`${root}/net/out-link/`),
      await submit(`${root}/net/big/`),
    ];
    const jobs: Job[] = [];
    await until(g, async () => {
      jobs.splice(0, jobs.length, ...(await Promise.all(ids.map((id) => g.orch.service.get(id)))));
      return jobs.every((j) => ['succeeded', 'failed'].includes(j.state));
    });
    const [ok, escape, big] = jobs as [Job, Job, Job];
    assert.equal(ok.state, 'succeeded', JSON.stringify(ok.error));
    assert.deepEqual((ok.result as { outputs: string[] }).outputs, [`${root}/net/result-in/a.txt`]);
    assert.match(escape.error?.message ?? '', /out-link\/key: leads outside/);
    assert.match(big.error?.message ?? '', /more than 1000 bytes/);
  });
});

describe('a cancel during a large input walk', () => {
  let g: TestGaffer;
  const marker = path.join(base, 'ran-walk');
  const FILES = 4000;
  before(async () => {
    await mkdir(path.join(root, 'many'), { recursive: true });
    for (let i = 0; i < FILES; i++) writeFileSync(path.join(root, 'many', `${i}.txt`), 'x');
    g = await startGaffer({
      autoscaler: { intervalMs: 50 },
      storage: { local: { roots: [root] } },
      jobTypes: {
        walk: {
          worker: { command: ['sh', '-c', 'touch "$MARKER"'], env: { MARKER: marker } },
          retry: { maxAttempts: 1 },
          scaling: { max: 1 },
        },
      },
    });
  });
  after(() => g?.close());

  test('aborts it: the job ends cancelled, its staged directory is removed, it never ran', async () => {
    const staging = path.join(g.dataDir, 'scratch', 'data');
    mkdirSync(staging, { recursive: true });
    const res = await post(g, '/v1/jobs', { type: 'walk', data: { inputs: [`${root}/many/`] } });
    assert.equal(res.statusCode, 201, res.body);
    const id: string = res.json().job.id;
    const jobDir = () => staging + path.sep + `${id.replace(/[^\w.-]/g, '_')}-1`;
    // The walk has begun once a file lands in the job's input directory.
    await watchUntil(staging, started);
    const cancel = await g.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    assert.equal(cancel.statusCode, 200, cancel.body);
    await until(g, async () => (await g.orch.service.get(id)).state === 'cancelled', [
      'job:cancelled',
    ]);
    await watchUntil(staging, () => !existsSync(jobDir()));
    assert.equal(existsSync(marker), false, 'the command never ran');

    function started(): boolean {
      const input = path.join(jobDir(), 'input');
      return existsSync(input) && readdirCount(input) > 0;
    }
  });
});

function readdirCount(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

/** Resolves once `check` holds, re-checked on every change under `dir` (and once at start). */
function watchUntil(dir: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir, { recursive: true }, () => {
      if (check()) finish();
    });
    const timer = setTimeout(() => finish(new Error(`not met in ${timeoutMs} ms`)), timeoutMs);
    function finish(err?: Error) {
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve();
    }
    if (check()) finish();
  });
}
