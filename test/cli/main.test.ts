import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { ApiJob, Batch } from '../../src/client/index.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const BIN = path.resolve(import.meta.dirname, '../../bin/gaffer.mjs');

/** Runs the CLI as a subprocess; resolves with its exit code and output (never rejects). */
async function cli(args: string[], env: Record<string, string> = {}, cwd?: string) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      env: { ...process.env, GAFFER_URL: '', ...env },
      ...(cwd ? { cwd } : {}),
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A loopback URL where nothing listens (a port bound, then released). */
async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('usage errors exit 2', () => {
  const cases: [string, string[]][] = [
    ['unknown command', ['frobnicate']],
    ['unknown option', ['jobs', '--frob']],
    ['missing argument', ['job']],
    ['bad integer', ['jobs', '--limit', 'ten']],
    ['limit out of range', ['jobs', '--limit', '0']],
    ['bad interval', ['watch', '-i', 'soon']],
    ['bad attribute', ['submit', 'x', '--attr', 'novalue']],
    ['bad JSON payload', ['submit', 'x', '--payload', '{nope']],
    ['both payload options', ['submit', 'x', '--payload', '{}', '--payload-file', 'p.json']],
    ['missing payload file', ['submit', 'x', '--payload-file', '/no/such/file.json']],
    ['missing upload file', ['upload', '/no/such/file.csv']],
    ['missing NDJSON file', ['submit-batch', '/no/such/jobs.ndjson']],
    ['no command at all', []],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await cli(args, { GAFFER_URL: 'http://127.0.0.1:9' });
      assert.equal(r.code, 2, `${args.join(' ')}\n${r.stderr}`);
      assert.ok(r.stderr.length > 0);
    });
  }

  it('--help and --version exit 0', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: gaffer/);
    for (const c of ['submit', 'upload', 'jobs', 'job', 'logs', 'cancel', 'retry', 'queues']) {
      assert.match(help.stdout, new RegExp(`^ {2}${c} `, 'm'));
    }
    assert.match((await cli(['--version'])).stdout, /^\d+\.\d+\.\d+/);
  });
});

describe('exit codes against a real gaffer', () => {
  let g: TestGaffer;
  let url: string;
  const job = async (id: string) =>
    (await g.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<{ job: ApiJob }>().job;

  before(async () => {
    g = await startGaffer({
      // `submit --input /data/lookup/` below: local paths are refused unless under a root.
      storage: { local: { roots: ['/data'] } },
      jobTypes: {
        // max 0: no worker starts, so a submitted job stays exactly as sent.
        held: { worker: { command: ['true'] }, scaling: { max: 0 } },
        ok: {
          worker: { command: ['sh', '-c', 'echo {\\"ok\\":true}'] },
          scaling: { max: 1, threshold: 0 },
        },
        fails: {
          worker: { command: ['sh', '-c', 'echo boom >&2; exit 3'] },
          retry: { maxAttempts: 3, backoffMs: 0 },
          deadLetter: false,
          scaling: { max: 1, threshold: 0 },
        },
      },
    });
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => g.close());

  it('an API error exits 1 with its code and message', async () => {
    const real = (await g.app.inject({ method: 'GET', url: '/v1/jobs/nope' })).json<{
      error: { code: string; message: string };
    }>();
    assert.equal(real.error.code, 'GAFFER_JOB_NOT_FOUND');
    const r = await cli(['job', 'nope', '--url', url]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: GAFFER_JOB_NOT_FOUND: ${real.error.message}\n`);
    assert.match(r.stderr, /nope/);
    assert.equal(r.stdout, '');
  });

  it('--json puts the error as JSON on stderr', async () => {
    const r = await cli(['--json', 'job', 'nope', '--url', url]);
    assert.equal(r.code, 1);
    const body = JSON.parse(r.stderr) as {
      error: { code: string; status: number; message: string };
    };
    assert.equal(body.error.code, 'GAFFER_JOB_NOT_FOUND');
    assert.equal(body.error.status, 404);
    assert.match(body.error.message, /nope/);
  });

  it('a refused submission exits 1 with the code of the real answer', async () => {
    const r = await cli(['submit', 'no-such-type', '--url', url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: GAFFER_UNKNOWN_TYPE: .*no-such-type/);
  });

  it('submit prints the id and sends type, payload, priority and attributes', async () => {
    const args = [
      'submit',
      'held',
      '--payload',
      '{"size": 3}',
      '--priority',
      '5',
      '--attr',
      'rows=100',
      '--attr',
      'latency_sensitive=true',
      '--attr',
      'team=ml',
      '--idempotency-key',
      'k1',
      '--max-attempts',
      '2',
      '--timeout',
      '7',
      '--url',
      url,
    ];
    const r = await cli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\S+\n$/);
    const id = r.stdout.trim();
    const stored = await job(id);
    assert.equal(stored.type, 'held');
    assert.equal(stored.state, 'queued');
    assert.deepEqual(stored.payload, { size: 3 });
    assert.equal(stored.priority, 5);
    assert.deepEqual(stored.attributes, { rows: 100, latency_sensitive: true, team: 'ml' });
    assert.equal(stored.idempotencyKey, 'k1');
    assert.equal(stored.maxAttempts, 2);
    assert.equal(stored.timeoutMs, 7000);

    const again = await cli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `${id}\n`, 'the same idempotency key gives the same job');
    assert.match(again.stderr, /already submitted/);
  });

  it('submit --dedup: debounce replaces the waiting payload; a bad mode exits 2', async () => {
    const submit = (payload: string) =>
      cli([
        'submit',
        'held',
        '--payload',
        payload,
        '--idempotency-key',
        'cli-d',
        '--dedup',
        'debounce=30s',
        '--url',
        url,
      ]);
    const first = await submit('{"v": 1}');
    assert.equal(first.code, 0, first.stderr);
    const second = await submit('{"v": 2}');
    assert.equal(second.stdout, first.stdout, 'the same job');
    const stored = await job(first.stdout.trim());
    assert.deepEqual(stored.payload, { v: 2 });
    assert.ok(stored.runAt >= stored.createdAt + 30_000);
    const bad = await cli([
      'submit',
      'held',
      '--idempotency-key',
      'x',
      '--dedup',
      'often',
      '--url',
      url,
    ]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /live, ttl=DURATION or debounce=DURATION/);
  });

  it('submit passes a priority name through unchanged: the job is as the same HTTP submission makes it', async () => {
    const cases: [string[], Record<string, unknown>][] = [
      [['--priority', 'high'], { priority: 'high' }],
      [
        ['--payload', '{"rows": 1, "priority": "high"}'],
        { payload: { rows: 1, priority: 'high' } },
      ],
      [['--attr', 'priority=high'], { attributes: { priority: 'high' } }],
    ];
    for (const [args, body] of cases) {
      const r = await cli(['submit', 'held', ...args, '--url', url]);
      assert.equal(r.code, 0, r.stderr);
      const viaCli = await job(r.stdout.trim());
      const direct = (
        await g.app.inject({
          method: 'POST',
          url: '/v1/jobs',
          payload: { type: 'held', payload: {}, ...body },
        })
      ).json<{ job: ApiJob }>().job;
      const shape = (j: ApiJob) => ({
        priority: j.priority,
        payload: j.payload,
        attributes: j.attributes,
      });
      assert.deepEqual(shape(viaCli), shape(direct), args.join(' '));
    }
  });

  it('submit sends --input and --output as the data references, and job shows them', async () => {
    const r = await cli([
      'submit',
      'held',
      '--input',
      's3://datasets/x.csv',
      '--input',
      '/data/lookup/',
      '--output',
      's3://results/run-1/',
      '--url',
      url,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.deepEqual((await job(id)).data, {
      inputs: ['s3://datasets/x.csv', '/data/lookup/'],
      output: 's3://results/run-1/',
    });
    const shown = await cli(['job', id, '--url', url]);
    assert.match(shown.stdout, /input:\s+s3:\/\/datasets\/x\.csv/);
    assert.match(shown.stdout, /output:\s+s3:\/\/results\/run-1\//);
  });

  it('submit resolves relative --input and --output paths against its working directory', async () => {
    const r = await cli(
      [
        'submit',
        'held',
        '--input',
        'data/lookup/x.csv',
        '--input',
        './data/lookup/',
        '--input',
        's3://datasets/y.csv',
        '--output',
        'data/out/',
        '--url',
        url,
      ],
      {},
      '/',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await job(r.stdout.trim())).data, {
      inputs: ['/data/lookup/x.csv', '/data/lookup/', 's3://datasets/y.csv'],
      output: '/data/out/',
    });
    // Other callers still must send absolute paths: the server resolves against nothing.
    const direct = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'held', data: { inputs: ['data/lookup/x.csv'] } },
    });
    assert.equal(direct.statusCode, 400);
    assert.equal(direct.json<{ error: { code: string } }>().error.code, 'GAFFER_DATA_REF_INVALID');
  });

  it('--json prints the answer as JSON on stdout', async () => {
    const r = await cli(['--json', 'submit', 'held', '--payload', '{"n": 1}', '--url', url]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { job: ApiJob; created: boolean };
    assert.equal(out.created, true);
    const { waiting, ...record } = await job(out.job.id);
    assert.deepEqual(out.job, record);
    assert.equal(waiting?.reason, 'no_worker', 'GET adds why a queued job waits');
    const shown = await cli(['job', out.job.id, '--url', url]);
    assert.match(shown.stdout, /waiting:\s+no_worker: no worker of its type yet/);

    const list = await cli(['jobs', '--type', 'held', '--json', '--url', url]);
    assert.equal(list.code, 0, list.stderr);
    const { jobs } = JSON.parse(list.stdout) as { jobs: ApiJob[] };
    assert.ok(jobs.some((j) => j.id === out.job.id));
    assert.ok(jobs.every((j) => j.type === 'held'));
  });

  it('submit --wait exits 0 and prints the result when the job succeeds', async () => {
    const r = await cli(['submit', 'ok', '--wait', '--url', url]);
    assert.equal(r.code, 0, r.stderr);
    const [id, result] = r.stdout.trimEnd().split('\n');
    assert.equal(result, '{"ok":true}');
    assert.match(r.stderr, /succeeded after 1 attempt\b/);
    const end = await job(id!);
    assert.equal(end.state, 'succeeded');
    assert.deepEqual(end.result, { ok: true });
  });

  it('submit --wait --json prints the ended job', async () => {
    const r = await cli(['--json', 'submit', 'ok', '--wait', '--url', url]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { job: ApiJob };
    assert.equal(out.job.state, 'succeeded');
    assert.deepEqual(out.job.result, { ok: true });
  });

  it('submit --wait exits 1 when the job does not succeed (as before `gaffer wait`)', async () => {
    const r = await cli(['submit', 'fails', '--wait', '--url', url]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /failed after 3 attempts/);
    const end = await job(r.stdout.trim());
    assert.equal(end.state, 'failed');
    assert.equal(end.attempt, 3);
    assert.ok(end.error);
    assert.ok(r.stderr.includes(`error (${end.error.class}): ${end.error.message}`), r.stderr);
  });

  it('Ctrl-C on submit --wait says the job keeps running and how to follow or cancel it; exit 130', async () => {
    const child = spawn(process.execPath, [MAIN, 'submit', 'held', '--wait', '--url', url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | string | null>((resolve) =>
      child.on('close', (code, signal) => resolve(code ?? signal)),
    );
    // The id is printed once the job is submitted; then the CLI waits.
    const id = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout }).once('line', resolve),
    );
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.ok(stderr.includes(`job ${id} keeps running`), stderr);
    assert.ok(stderr.includes(`gaffer wait ${id}`), stderr);
    assert.ok(stderr.includes(`gaffer cancel ${id}`), stderr);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack');
    assert.equal((await job(id)).state, 'queued', 'the job is left as it was');
  });

  describe('gaffer wait: the exit code says how it ended', () => {
    const submit = async (type: string) =>
      (await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type } })).json<{
        job: ApiJob;
      }>().job.id;
    const batchOf = async (type: string, n: number) =>
      (
        await g.app.inject({
          method: 'POST',
          url: '/v1/jobs/batch',
          payload: { type, jobs: Array.from({ length: n }, () => ({})) },
        })
      ).json<{ batchId: string }>().batchId;
    const cases: [string, () => Promise<string>, number, RegExp][] = [
      ['a job that succeeds: 0', () => submit('ok'), 0, /^\{"ok":true\}\n$/],
      ['a job that fails: 5', () => submit('fails'), 5, /^$/],
      [
        'a batch whose jobs all succeed: 0',
        () => batchOf('ok', 3),
        0,
        /^ended: +3 of 3 \(100%\)$/m,
      ],
      ['a batch with failed jobs: 5', () => batchOf('fails', 2), 5, /^states: +failed 2$/m],
    ];
    for (const [name, make, code, stdout] of cases) {
      it(name, async () => {
        const id = await make();
        const r = await cli(['wait', id, '--interval', '100', '--url', url]);
        assert.equal(r.code, code, r.stderr);
        assert.match(r.stdout, stdout);
      });
    }

    it('--json prints the final state of a batch, with its progress', async () => {
      const id = await batchOf('ok', 2);
      const r = await cli(['--json', 'wait', id, '--interval', '100', '--url', url]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as {
        batch: Batch;
        progress: { total: number; ended: number };
        succeeded: boolean;
      };
      assert.equal(out.batch.id, id);
      assert.deepEqual([out.progress.total, out.progress.ended, out.succeeded], [2, 2, true]);
    });

    it('--timeout exits 6 with the last state when the job has not ended', async () => {
      const id = await submit('held');
      const r = await cli([
        '--json',
        'wait',
        id,
        '--timeout',
        '300ms',
        '--interval',
        '50',
        '--url',
        url,
      ]);
      assert.equal(r.code, 6, r.stderr);
      const out = JSON.parse(r.stdout) as { job: ApiJob; timedOut: boolean };
      assert.equal(out.timedOut, true);
      assert.equal(out.job.state, 'queued');
      assert.match(r.stderr, /timed out after 300ms: \S+ queued/);
    });

    it('an unknown id exits 1 with the catalogue code as JSON', async () => {
      const r = await cli(['--json', 'wait', 'batch-nope', '--url', url]);
      assert.equal(r.code, 1);
      assert.equal(JSON.parse(r.stderr).error.code, 'GAFFER_BATCH_NOT_FOUND');
    });
  });

  it('the URL comes from GAFFER_URL when --url is not given', async () => {
    const r = await cli(['job', 'nope'], { GAFFER_URL: url });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /GAFFER_JOB_NOT_FOUND/);
    const q = await cli(['--json', 'queues'], { GAFFER_URL: url });
    assert.equal(q.code, 0, q.stderr);
    assert.ok(q.stdout.includes('"fails"'));
  });
});

describe('cannot connect exits 3', () => {
  it('for a refused connection', async () => {
    const url = await closedPortUrl();
    const r = await cli(['queues', '--url', url]);
    assert.equal(r.code, 3);
    assert.ok(r.stderr.includes(`cannot connect to ${url}: ECONNREFUSED`), r.stderr);
  });
});

describe('bin/gaffer.mjs', () => {
  it('runs the CLI (re-executing on Node 24 if needed)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, '--version']);
    assert.match(stdout, /^\d+\.\d+\.\d+/);
  });
});
