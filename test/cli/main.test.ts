import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { deadUrl, fakeServer, notFound } from './fake-server.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const BIN = path.resolve(import.meta.dirname, '../../bin/gaffer.mjs');

/** Runs the CLI as a subprocess; resolves with its exit code and output (never rejects). */
async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      env: { ...process.env, GAFFER_URL: '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const JOB = {
  id: 'job-1',
  type: 'matrix-multiplication',
  queue: 'matrix',
  state: 'queued',
  priority: 0,
  attempt: 0,
  maxAttempts: 3,
  timeoutMs: 1000,
  payload: { size: 3 },
  attributes: {},
  result: null,
  error: null,
  createdAt: 0,
  runAt: 0,
  startedAt: null,
  finishedAt: null,
  batchId: null,
  idempotencyKey: null,
  routeReason: null,
  cancelRequested: false,
  leaseOwner: null,
};

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

describe('exit codes against a server', () => {
  let server: Awaited<ReturnType<typeof fakeServer>>;
  before(async () => {
    server = await fakeServer((req) => {
      if (req.url === '/v1/jobs' && req.method === 'POST') {
        return { status: 201, json: { job: JOB } };
      }
      if (req.url.startsWith('/v1/jobs/job-1')) {
        return { json: { job: { ...JOB, state: 'failed', attempt: 3 } } };
      }
      return notFound;
    });
  });
  after(() => server.close());

  it('an API error exits 1 with its code and message', async () => {
    const r = await cli(['job', 'nope', '--url', server.url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /GAFFER_JOB_NOT_FOUND: No job has this id: nope/);
  });

  it('--json puts the error as JSON on stderr', async () => {
    const r = await cli(['--json', 'job', 'nope', '--url', server.url]);
    assert.equal(r.code, 1);
    const body = JSON.parse(r.stderr) as { error: { code: string; status: number } };
    assert.equal(body.error.code, 'GAFFER_JOB_NOT_FOUND');
    assert.equal(body.error.status, 404);
  });

  it('submit prints the id and sends type, payload, priority and attributes', async () => {
    const r = await cli([
      'submit',
      'matrix-multiplication',
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
      '--url',
      server.url,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'job-1\n');
    const sent = JSON.parse(server.seen.at(-1)!.body.toString()) as Record<string, unknown>;
    assert.deepEqual(sent, {
      type: 'matrix-multiplication',
      payload: { size: 3 },
      priority: 5,
      attributes: { rows: 100, latency_sensitive: true, team: 'ml' },
      idempotencyKey: 'k1',
    });
  });

  it('submit --wait exits 1 when the job does not succeed', async () => {
    const r = await cli(['submit', 'matrix-multiplication', '--wait', '--url', server.url]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /failed after 3 attempts/);
  });

  it('the URL comes from GAFFER_URL when --url is not given', async () => {
    const r = await cli(['job', 'nope'], { GAFFER_URL: server.url });
    assert.equal(r.code, 1);
  });
});

describe('cannot connect exits 3', () => {
  it('for a refused connection', async () => {
    const url = await deadUrl();
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
