import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseConfig } from '../../src/config/load.ts';
import { REPO, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * Ad-hoc commands (`adhoc` in the config, POST /v1/run, `gaffer run`) on a real gaffer
 * with the local executor: the command runs as `sh -c` in a per-job worker.
 */

const MAIN = path.join(REPO, 'src/cli/main.ts');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      env: { ...process.env, GAFFER_URL: '', GAFFER_API_KEY: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const ended = (g: TestGaffer, id: string) =>
  until(
    g,
    async () => ['succeeded', 'failed', 'timed_out'].includes((await g.orch.service.get(id)).state),
    ['job:succeeded', 'job:failed', 'job:retrying'],
  );

describe('ad-hoc commands, enabled', () => {
  let g: TestGaffer;
  let url: string;
  before(async () => {
    g = await startGaffer({
      autoscaler: { intervalMs: 100 },
      adhoc: {
        enabled: true,
        allowedImages: ['alpine:*'],
        maxTimeoutSeconds: 120,
        scaling: { max: 2, threshold: 0 },
      },
    });
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => g.close());

  const run = (body: object) => g.app.inject({ method: 'POST', url: '/v1/run', payload: body });

  it('runs `echo Hello World`: succeeded, the line in its log, the image recorded', async () => {
    const res = await run({ image: 'busybox', cmd: 'echo Hello World', timeoutSeconds: 60 });
    assert.equal(res.statusCode, 201, res.body);
    const { job } = res.json();
    assert.equal(job.type, 'adhoc');
    assert.deepEqual(job.payload, { cmd: 'echo Hello World', image: 'busybox' });
    assert.equal(job.timeoutMs, 60_000);
    await ended(g, job.id);
    const done = await g.orch.service.get(job.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    const lines = await g.orch.store.logs(job.id);
    assert.ok(lines.some((l) => l.stream === 'stdout' && l.data.includes('Hello World')));
  });

  it('passes env and the exit code through (a failing command fails, without retries)', async () => {
    const res = await run({ cmd: 'echo "x=$X"; exit 3', env: { X: 'forty-two' } });
    const { job } = res.json();
    assert.equal(job.payload.image, 'busybox', 'the default image is recorded');
    await ended(g, job.id);
    const done = await g.orch.service.get(job.id);
    assert.equal(done.state, 'failed');
    assert.equal(done.error?.exitCode, 3);
    assert.equal(done.attempt, 1, 'one attempt: adhoc.retry.maxAttempts defaults to 1');
    const lines = await g.orch.store.logs(job.id);
    assert.ok(lines.some((l) => l.data.includes('x=forty-two')));
  });

  it('a command over its timeout is timed_out', async () => {
    const { job } = (await run({ cmd: 'sleep 30', timeoutSeconds: 1 })).json();
    await ended(g, job.id);
    assert.equal((await g.orch.service.get(job.id)).state, 'timed_out');
  });

  const refusals: [string, object, number, string][] = [
    [
      'a timeout over the ceiling',
      { cmd: 'true', timeoutSeconds: 121 },
      400,
      'GAFFER_TIMEOUT_TOO_LONG',
    ],
    ['an image not allowed', { cmd: 'true', image: 'evil/miner' }, 422, 'GAFFER_PAYLOAD_INVALID'],
    ['no command', { image: 'busybox' }, 400, 'GAFFER_BAD_REQUEST'],
  ];
  for (const [name, body, status, code] of refusals) {
    it(`refuses ${name} with ${code}`, async () => {
      const res = await run(body);
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().error.code, code);
    });
  }

  it('allows an image matching allowedImages', async () => {
    const res = await run({ cmd: 'true', image: 'alpine:3.20' });
    assert.equal(res.statusCode, 201, res.body);
    await ended(g, res.json().job.id);
  });

  it('POST /v1/jobs with the ad-hoc type gets the same checks', async () => {
    const post = (body: object) => g.app.inject({ method: 'POST', url: '/v1/jobs', payload: body });
    const overCeiling = await post({
      type: 'adhoc',
      payload: { cmd: 'true' },
      timeoutSeconds: 999,
    });
    assert.equal(overCeiling.json().error.code, 'GAFFER_TIMEOUT_TOO_LONG');
    const badImage = await post({ type: 'adhoc', payload: { cmd: 'true', image: 'evil/miner' } });
    assert.equal(badImage.json().error.code, 'GAFFER_PAYLOAD_INVALID');
    const noCmd = await post({ type: 'adhoc', payload: { image: 'busybox' } });
    assert.equal(noCmd.json().error.code, 'GAFFER_PAYLOAD_INVALID');
  });

  it('`gaffer run … --wait` prints the output and exits 0; a failure exits 1', async () => {
    const ok = await cli([
      'run',
      '--url',
      url,
      '--image',
      'busybox',
      '--cmd',
      'echo Hello World',
      '--timeout',
      '60',
      '--wait',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'Hello World\n');
    assert.match(ok.stderr, /succeeded after 1 attempt/);
    const bad = await cli(['run', '--url', url, '--cmd', 'echo oops >&2; exit 2', '--wait']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /oops/);
    assert.match(bad.stderr, /failed after 1 attempt/);
  });

  it('`gaffer run` without --wait prints the job id; --json the job', async () => {
    const plain = await cli(['run', '--url', url, '--cmd', 'true']);
    assert.equal(plain.code, 0, plain.stderr);
    const id = plain.stdout.trim();
    assert.equal((await g.orch.service.get(id)).type, 'adhoc');
    const json = await cli(['--json', 'run', '--url', url, '--cmd', 'true']);
    assert.equal(JSON.parse(json.stdout).job.type, 'adhoc');
    await ended(g, id);
  });
});

describe('ad-hoc commands, off (the default)', () => {
  let g: TestGaffer;
  let url: string;
  before(async () => {
    g = await startGaffer({});
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => g.close());

  it('POST /v1/run is refused with GAFFER_ADHOC_DISABLED, and no type exists', async () => {
    const res = await g.app.inject({ method: 'POST', url: '/v1/run', payload: { cmd: 'id' } });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'GAFFER_ADHOC_DISABLED');
    assert.deepEqual(g.orch.catalog.names(), []);
  });

  it('`gaffer run` says so and exits 4', async () => {
    const r = await cli(['run', '--url', url, '--cmd', 'id']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /GAFFER_ADHOC_DISABLED/);
  });
});

describe('ad-hoc config', () => {
  const KEY = { id: 'ci', hash: `sha256:${'0'.repeat(64)}`, role: 'submitter', types: ['adhoc'] };
  it('a key may be scoped to the ad-hoc type only when it is enabled', () => {
    const on = parseConfig({ adhoc: { enabled: true }, auth: { keys: [KEY] } }, 'test');
    assert.deepEqual(on.adhoc.retry.maxAttempts, 1, 'one attempt by default');
    assert.equal(on.adhoc.retry.backoffMs, 1000, 'the rest of retry keeps its defaults');
    assert.throws(() => parseConfig({ auth: { keys: [KEY] } }, 'test'), /names no job type/);
  });
  it('its name must not be a configured type', () => {
    const clash = {
      adhoc: { enabled: true },
      jobTypes: { adhoc: { worker: { command: ['true'] } } },
    };
    assert.throws(() => parseConfig(clash, 'test'), /\/adhoc\/name: is also a configured job type/);
  });
});
