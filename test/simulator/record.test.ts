import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readTrace } from '../../src/simulator/trace.ts';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

const CLI = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const SIMULATE = path.resolve(import.meta.dirname, '../../src/simulator/main.ts');

async function run(script: string, args: string[]) {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args], {
    env: { ...process.env, GAFFER_URL: '' },
  });
  return { stdout, stderr };
}

describe('gaffer trace: record from a running gaffer, replay in the simulator', () => {
  let g: TestGaffer;
  let url: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-trace-'));

  before(async () => {
    g = await startGaffer({
      jobTypes: {
        quick: {
          worker: { command: ['sh', '-c', 'echo {}'] },
          concurrency: 2,
          scaling: { max: 2, threshold: 0, idleSeconds: 7 },
        },
        // max 0: its job stays queued, so it has no run time and is left out.
        held: { worker: { command: ['true'] }, scaling: { max: 0 } },
      },
    });
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
    const submit = (type: string) =>
      g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, payload: {} } });
    for (let i = 0; i < 6; i++) assert.equal((await submit('quick')).statusCode, 201);
    assert.equal((await submit('held')).statusCode, 201);
    await until(g, async () => (await countByState(g, 'quick'))['succeeded'] === 6);
  });
  after(async () => {
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the finished jobs with their type settings, and the simulator replays them', async () => {
    const file = path.join(dir, 'recorded.ndjson');
    const rec = await run(CLI, ['trace', '--out', file, '--url', url, '--name', 'rec']);
    assert.match(rec.stdout, /wrote 6 jobs/);
    assert.match(rec.stderr, /1 jobs not finished yet/);

    const trace = await readTrace(file);
    assert.equal(trace.name, 'rec');
    assert.equal(trace.jobs.length, 6);
    assert.ok(trace.jobs.every((j) => j.type === 'quick' && j.run >= 0 && j.at >= 0));
    assert.equal(Math.min(...trace.jobs.map((j) => j.at)), 0, 'arrivals count from the first');
    assert.equal(trace.types['quick']!.concurrency, 2);
    assert.equal(trace.types['quick']!.scaling.max, 2);
    assert.equal(trace.types['quick']!.scaling.idleSeconds, 7);

    const sim = await run(SIMULATE, ['--trace', file, '--delays', '200']);
    assert.match(sim.stdout, /^\| rec \| gaffer \|/m);
    assert.match(sim.stdout, /^\| rec \| keda-t1 \|/m);
    assert.match(sim.stdout, /^\| rec \| keda-scaledjob \|/m);
    assert.match(sim.stdout, /busy workers killed: 0 /);
  });

  it('--type and --since filter what is recorded', async () => {
    const file = path.join(dir, 'typed.json');
    await run(CLI, ['trace', '--out', file, '--url', url, '--type', 'quick']);
    const typed = await readTrace(file);
    assert.deepEqual(Object.keys(typed.types), ['quick']);
    assert.equal(typed.jobs.length, 6);

    const future = new Date(Date.now() + 3600_000).toISOString();
    const later = path.join(dir, 'later.json');
    const r = await run(CLI, [
      'trace',
      '--out',
      later,
      '--url',
      url,
      '--type',
      'quick',
      '--since',
      future,
    ]);
    assert.match(r.stdout, /wrote 0 jobs/);
    assert.equal((await readTrace(later)).jobs.length, 0);
  });
});
