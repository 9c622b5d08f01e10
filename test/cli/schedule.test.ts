import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

async function cli(args: string[]) {
  try {
    const run = promisify(execFile)(process.execPath, [MAIN, ...args], {
      env: { ...process.env, GAFFER_URL: '', GAFFER_API_KEY: '' },
    });
    const { stdout, stderr } = await run;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `gaffer pause|resume TYPE` and `gaffer schedule …` against a real gaffer, human and --json. */
describe('gaffer pause, resume and schedule', () => {
  let g: TestGaffer;
  let url: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-schedule-cli-'));
  const run = (...args: string[]) => cli([...args, '--url', url]);

  before(async () => {
    g = await startGaffer({
      jobTypes: { held: { worker: { command: ['true'] }, scaling: { max: 0 } } },
      schedules: { nightly: { cron: '0 3 * * *', submit: { type: 'held', payload: { n: 1 } } } },
    });
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pause and resume a type; queues marks it paused', async () => {
    const paused = await run('pause', 'held');
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout.trim(), 'held paused');
    assert.match((await run('queues')).stdout, /held \(paused\)/);
    const json = await run('--json', 'resume', 'held');
    assert.deepEqual(JSON.parse(json.stdout), { type: 'held', paused: false });
    assert.doesNotMatch((await run('queues')).stdout, /paused/);
    const unknown = await run('pause', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /GAFFER_UNKNOWN_TYPE/);
  });

  it('list and show a schedule, human and --json', async () => {
    const list = await run('schedule', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /nightly +0 3 \* \* \* +held +\d{4}-\d\d-\d\dT03:00:00\.000Z +- +- +config/,
    );
    const json = JSON.parse((await run('--json', 'schedule', 'list')).stdout);
    assert.equal(json.schedules[0].name, 'nightly');
    const show = await run('schedule', 'show', 'nightly');
    assert.match(show.stdout, /submits: +held \{"n":1\}/);
    assert.match(show.stdout, /paused: +no/);
  });

  it('pause, resume and trigger a schedule', async () => {
    assert.equal((await run('schedule', 'pause', 'nightly')).stdout.trim(), 'nightly paused');
    assert.match((await run('schedule', 'list')).stdout, /nightly .* paused /);
    assert.equal((await run('schedule', 'resume', 'nightly')).stdout.trim(), 'nightly active');
    const trigger = JSON.parse((await run('--json', 'schedule', 'trigger', 'nightly')).stdout);
    assert.equal(trigger.job.type, 'held');
    assert.match(trigger.job.idempotencyKey, /^schedule:nightly:manual:/);
    const show = JSON.parse((await run('--json', 'schedule', 'show', 'nightly')).stdout);
    assert.equal(show.schedule.lastRun, null, 'a trigger does not move the cron state');
  });

  it('put from a YAML file, then delete; a config schedule is refused', async () => {
    const file = path.join(dir, 'hourly.yaml');
    writeFileSync(file, 'cron: "0 * * * *"\nsubmit:\n  type: held\n');
    const put = await run('schedule', 'put', 'hourly', file);
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /^hourly created; next run \d{4}-/);
    assert.match((await run('schedule', 'list')).stdout, /hourly .* api/);
    assert.equal((await run('schedule', 'delete', 'hourly')).stdout.trim(), 'hourly deleted');
    const refused = await run('schedule', 'delete', 'nightly');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /GAFFER_SCHEDULE_CONFIGURED/);
    const missing = await run('schedule', 'put', 'x', path.join(dir, 'nope.yaml'));
    assert.equal(missing.code, 2);
  });
});
