import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { createKey } from '../../src/api/auth/keys.ts';
import type { ApiJob, Batch } from '../../src/client/index.ts';
import { REPO } from '../helpers/gaffer.ts';
import {
  api,
  getJob,
  isAlive,
  jobEnded,
  spawnGaffer,
  untilEvent,
  type GafferProcess,
} from '../helpers/process.ts';

// Each seed's example job type (examples/gaffer.config.yaml, examples/README.md) run end to end:
// the real `gaffer up` as a subprocess, driven through its HTTP API and the `gaffer` CLI.

const MAIN = path.join(REPO, 'src/cli/main.ts');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gaffer-seeds-'));
const out = (name: string) => path.join(tmp, 'out', name);
// Uploaded outputs go under a root the example config lists (.gaffer/outputs, from the repository
// root where gaffer runs): this test's own folder there, removed after.
const uploads = path.join(REPO, '.gaffer/outputs', path.basename(tmp));
const uploaded = (name: string) => path.join(uploads, name);
let gaffer: GafferProcess;
let url: string;

before(async () => {
  gaffer = await spawnGaffer(
    ['--config', 'examples/gaffer.config.yaml', '--data-dir', path.join(tmp, 'data')],
    {
      // Real work, not the seed's simulated sleep, whatever the calling shell has set.
      SIMULATE_WORKLOAD_DURATION_IN_SEC: '',
      // Outputs of jobs without data references, and twin states: private to the test.
      OUTPUT_DIR: out('outputs'),
      TWIN_STATE_DIR: out('twins'),
      GAFFER_GRPC_PORT: '0', // the example's 9090 may be taken on a shared machine
    },
  );
  url = gaffer.url;
});
after(async () => {
  gaffer?.child.kill('SIGTERM');
  await gaffer?.exited;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(uploads, { recursive: true, force: true });
});

/** Runs the CLI against the gaffer under test; resolves with its exit code and output. */
async function cli(...args: string[]) {
  return cliAt(url, ...args);
}

async function cliAt(at: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [MAIN, '--url', at, ...args],
      { cwd: REPO, env: { ...process.env, GAFFER_URL: '', GAFFER_API_KEY: '' } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `gaffer --json submit … --wait`: exits 0 with the job ended `succeeded`. */
async function submitAndWait(...args: string[]): Promise<ApiJob> {
  const r = await cli('--json', 'submit', ...args, '--wait');
  assert.equal(r.code, 0, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  const { job } = JSON.parse(r.stdout) as { job: ApiJob };
  assert.equal(job.state, 'succeeded');
  assert.deepEqual((await getJob(url, job.id)).result, job.result, 'the result is recorded');
  return job;
}

async function batchDone(id: string, rows: number): Promise<Batch> {
  let batch: Batch | undefined;
  await untilEvent(url, async () => {
    batch = (await api<{ batch: Batch }>(url, `/v1/batches/${id}`)).batch;
    const b = batch.byState;
    return (b.succeeded ?? 0) + (b.failed ?? 0) + (b.dead_lettered ?? 0) === rows;
  });
  return batch!;
}

/** A sleep no other test runs, so its process can be found (and must be gone). */
const SLEEP = '30.25';

/** Pids of live processes whose argv is exactly `argv` (Linux /proc; zombies count as gone). */
function running(argv: string[]): number[] {
  if (!existsSync('/proc/self/cmdline')) return [];
  const want = argv.join('\0') + '\0';
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8') === want && isAlive(Number(d));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** `gaffer logs ID`: stdout and stderr lines of the job, in one text. */
async function logs(id: string): Promise<string> {
  const r = await cli('logs', id);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout + r.stderr;
}

describe("Each seed's example job type runs end to end through the API and the CLI", () => {
  it('000: gen-data, upload (CLI and /upload), every row of the batch succeeds', async () => {
    const csv = path.join(tmp, 'data.csv');
    const gen = await cli('gen-data', '-n', '200', '-o', csv);
    assert.equal(gen.code, 0, gen.stderr);
    assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 201, 'header + 200 rows');

    const up = await cli('upload', csv, '--type', 'csv-row', '--json');
    assert.equal(up.code, 0, up.stderr);
    const { batch, rejected } = JSON.parse(up.stdout) as { batch: Batch; rejected: unknown[] };
    assert.equal(batch.type, 'csv-row');
    assert.equal(batch.accepted, 200);
    assert.equal(batch.rejected, 0);
    assert.deepEqual(rejected, []);

    // Seed 000's own endpoint, as `curl -F file=@data.csv …/upload?type=csv-row` sends it.
    const form = new FormData();
    form.append('file', new Blob([readFileSync(csv)], { type: 'text/csv' }), 'data.csv');
    const res = await fetch(`${url}/upload?type=csv-row`, { method: 'POST', body: form });
    assert.equal(res.status, 201, await res.clone().text());
    const alias = ((await res.json()) as { batch: Batch }).batch;
    assert.equal(alias.accepted, 200);
    assert.notEqual(alias.id, batch.id);

    for (const id of [batch.id, alias.id]) {
      const done = await batchDone(id, 200);
      assert.deepEqual(done.byState, { succeeded: 200 }, `batch ${id}`);
    }
    const { jobs } = await api<{ jobs: ApiJob[] }>(url, `/v1/jobs?batch=${batch.id}&limit=1`);
    const result = jobs[0]!.result as Record<string, unknown>;
    assert.deepEqual(Object.keys(result).sort(), ['amountCents', 'currency', 'day', 'email', 'id']);
  });

  it('001: matrix multiplication through the seed endpoint and `gaffer submit --wait`', async () => {
    const { job_id } = await api<{ job_id: string }>(url, '/matrix-multiplication/submit-job/', {
      size: 20,
    });
    const viaCli = await submitAndWait('matrix-multiplication', '--payload', '{"size":10}');
    const viaAlias = await jobEnded(url, job_id);
    assert.equal(viaAlias.state, 'succeeded', JSON.stringify(viaAlias.error));
    for (const [job, size] of [
      [viaAlias, 20],
      [viaCli, 10],
    ] as const) {
      const result = job.result as { size: number; trace: number; simulated: boolean };
      assert.equal(job.type, 'matrix-multiplication');
      assert.equal(result.size, size);
      assert.equal(typeof result.trace, 'number');
      assert.equal(result.simulated, false);
    }
    const scale = await api<{ types: Record<string, unknown> }>(url, '/desired-worker-scale');
    assert.ok('matrix-multiplication' in scale.types);
  });

  it('002: untyped submissions are routed by the cost rule (/submit-job and the CLI)', async () => {
    type Routed = { job_id: string; queue: string; reason: string };
    const fast = await api<Routed>(url, '/submit-job', {
      latency_sensitive: true,
      rows: 100,
      estimated_runtime_sec: 1,
    });
    assert.equal(fast.queue, 'actor-jobs');
    assert.match(fast.reason, /actor/);
    const big = await api<Routed>(url, '/submit-job', {
      rows: 50_000_000,
      estimated_runtime_sec: 1,
    });
    assert.equal(big.queue, 'spark-jobs');
    assert.match(big.reason, /cost 50\.10.*spark/);

    // The CLI without a type: the routing fields from the payload and from --attr.
    const [ml, actor, batch] = await Promise.all([
      submitAndWait('--payload', '{"rows": 2000000}', '--attr', 'estimated_runtime_sec=30'),
      submitAndWait(
        '--payload',
        '{"rows": 100, "estimated_runtime_sec": 1}',
        '--attr',
        'latency_sensitive=true',
      ),
      submitAndWait('--payload', '{"rows": 1000, "estimated_runtime_sec": 5}'),
    ]);
    const aliasJobs = await Promise.all([jobEnded(url, fast.job_id), jobEnded(url, big.job_id)]);
    const expected: [ApiJob, string][] = [
      [aliasJobs[0], 'actor'],
      [aliasJobs[1], 'spark'],
      [ml, 'ml'],
      [actor, 'actor'],
      [batch, 'batch'],
    ];
    for (const [job, type] of expected) {
      assert.equal(job.state, 'succeeded', `${type}: ${JSON.stringify(job.error)}`);
      assert.equal(job.type, type);
      assert.equal((job.result as { ranAs: string }).ranAs, type, 'ran as the routed type');
    }
    assert.match(ml.routeReason ?? '', /cost 5\.00 .*→ ml/);
    const shown = await cli('job', ml.id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /routed:\s+cost 5\.00/);
  });

  it('003: pipeline, training, inference and digital twin, one process per job', async () => {
    // examples/README.md's commands: the CSV by reference (`--input`), named in the payload.
    const sensors = path.join(REPO, 'examples/data/sensors.csv');
    const input = ['--input', sensors];
    const [pipeline, training, twin, twinFromFile] = await Promise.all([
      submitAndWait(
        'pipeline',
        ...input,
        '--payload',
        JSON.stringify({
          pipeline_id: 'sensor-data-pipeline',
          parameters: { input_data: 'sensors.csv', output_format: 'json' },
        }),
      ),
      submitAndWait(
        'ml-training',
        ...input,
        '--output',
        uploaded('training/'),
        '--payload',
        JSON.stringify({
          dataset: 'sensors.csv',
          features: ['temperature'],
          target: 'pressure',
          epochs: 100,
        }),
      ),
      submitAndWait(
        'digital-twin',
        '--payload',
        JSON.stringify({
          twin_id: 'press-1',
          readings: [
            { sensor: 'temperature', value: 21.4 },
            { sensor: 'pressure', value: 138.2 },
          ],
        }),
      ),
      submitAndWait(
        'digital-twin',
        ...input,
        '--payload',
        JSON.stringify({ twin_id: 'press-2', readings_file: 'sensors.csv' }),
      ),
    ]);
    // With `--output`, gaffer uploaded the output directory and wrapped the worker's result.
    const trained = training.result as {
      result: { model: Record<string, unknown>; modelFile: string; rows: number };
      outputLocation: string;
      outputs: string[];
    };
    assert.equal(trained.result.modelFile, 'model.json');
    assert.equal(trained.outputLocation, uploaded('training/'));
    assert.deepEqual(trained.outputs, [uploaded('training/model.json')]);
    assert.deepEqual(
      JSON.parse(readFileSync(uploaded('training/model.json'), 'utf8')),
      trained.result.model,
    );
    const model = trained.result.model;
    const [inline, onFiles] = await Promise.all([
      submitAndWait(
        'ml-inference',
        '--payload',
        JSON.stringify({ model, inputs: [{ temperature: 21.5 }, { temperature: 28 }] }),
      ),
      submitAndWait(
        'ml-inference',
        '--input',
        uploaded('training/model.json'),
        ...input,
        '--payload',
        JSON.stringify({ model: 'model.json', dataset: 'sensors.csv' }),
      ),
    ]);

    const rows = readFileSync(sensors, 'utf8').trim().split('\n').length - 1;
    assert.deepEqual(pipeline.result, {
      pipeline_id: 'sensor-data-pipeline',
      rows,
      columns: ['timestamp', 'sensor_id', 'temperature', 'pressure', 'vibration'],
      output: 'summary.json',
    });
    assert.equal(trained.result.rows, rows);
    const predicted = inline.result as { count: number; first: number[]; predictions: string };
    assert.equal(predicted.count, 2);
    assert.ok(predicted.first.every((v) => Number.isFinite(v)));
    assert.equal(predicted.predictions, out(`outputs/${inline.id}/predictions.json`));
    assert.ok(existsSync(predicted.predictions), 'no data references: OUTPUT_DIR/<job id>/');
    assert.equal((onFiles.result as { count: number }).count, rows);
    assert.deepEqual(twin.result, {
      twin_id: 'press-1',
      state: out('twins/press-1.json'),
      sensors: ['pressure', 'temperature'],
      updates: 1,
    });
    assert.ok(existsSync(out('twins/press-1.json')));
    assert.ok((twinFromFile.result as { sensors: string[] }).sensors.includes('vibration'));
    for (const job of [pipeline, training, inline, onFiles, twin, twinFromFile]) {
      assert.equal((await getJob(url, job.id)).leaseOwner, null);
    }

    const shown = await Promise.all([pipeline, training, inline, twin].map((j) => logs(j.id)));
    assert.match(
      shown[0]!,
      new RegExp(`pipeline sensor-data-pipeline: ${rows} rows from sensors.csv`),
    );
    assert.match(shown[1]!, /epoch 0: mse/);
    assert.match(shown[2]!, /predicted 2 values of pressure/);
    assert.match(shown[3]!, /twin press-1: updated pressure, temperature/);
  });

  it('004: with a key, as the README shares it, a command runs, logs and times out', async () => {
    // As shipped (no key, loopback) seed 004's commands run: test/e2e/seed-commands.test.ts.
    // The config examples/README.md shows: the example's, plus its auth and adhoc blocks.
    const { key, hash } = createKey('ops-me');
    const block = readmeAdhocBlock() as { auth: { keys: { hash: string }[] } };
    block.auth.keys[0]!.hash = hash;
    const example = YAML.parse(
      readFileSync(path.join(REPO, 'examples/gaffer.config.yaml'), 'utf8'),
    );
    const file = path.join(tmp, 'my-gaffer.yaml');
    writeFileSync(file, YAML.stringify({ ...example, ...block }));
    const on = await spawnGaffer(['--config', file, '--data-dir', path.join(tmp, 'data-004')], {
      GAFFER_GRPC_PORT: '0',
    });
    try {
      await adhocRuns(on.url, key);
    } finally {
      on.child.kill('SIGTERM');
      await on.exited;
    }
  });
});

/** The image + command + timeout tasks examples/README.md runs, on a gaffer with ad-hoc on. */
async function adhocRuns(at: string, key: string): Promise<void> {
  const run = (...args: string[]) => cliAt(at, ...args);
  const withKey = (...args: string[]) => cliAt(at, '--api-key', key, ...args);

  const anonymous = await run('run', '--cmd', 'echo hello');
  assert.equal(anonymous.code, 4, 'no key: 401');

  const hello = await withKey('run', '--image', 'busybox', '--cmd', 'echo Hello World', '--wait');
  assert.equal(hello.code, 0, hello.stderr);
  assert.equal(hello.stdout, 'Hello World\n');

  const ticks = await withKey('run', '--cmd', 'for i in 1 2 3; do echo tick $i; done');
  assert.equal(ticks.code, 0, ticks.stderr);
  const followed = await withKey('logs', ticks.stdout.trim(), '-f');
  assert.equal(followed.code, 0, followed.stderr);
  assert.match(followed.stdout, /tick 1\n(.*\n)?tick 2\n(.*\n)?tick 3/);

  const r = await withKey('--json', 'run', '--cmd', `sleep ${SLEEP}`, '--timeout', '1', '--wait');
  assert.equal(r.code, 1, r.stderr);
  const { job } = JSON.parse(r.stdout) as { job: ApiJob };
  assert.equal(job.state, 'timed_out');
  assert.equal(job.timeoutMs, 1000);
  assert.equal(job.error?.class, 'timeout');
  assert.deepEqual(running(['sleep', SLEEP]), [], 'the timed-out command was killed');

  const tooLong = await withKey('run', '--cmd', 'sleep 1', '--timeout', '3600');
  assert.equal(tooLong.code, 1);
  assert.match(tooLong.stderr, /GAFFER_TIMEOUT_TOO_LONG/);
  const image = await withKey('run', '--image', 'ubuntu', '--cmd', 'id');
  assert.equal(image.code, 1);
  assert.match(image.stderr, /GAFFER_PAYLOAD_INVALID.*image "ubuntu" is not allowed/);

  const audit = await withKey('--json', 'audit', '--action', 'job.run');
  assert.equal(audit.code, 0, audit.stderr);
  const entries = JSON.stringify(JSON.parse(audit.stdout));
  assert.match(entries, /ops-me/);
  assert.match(entries, /echo Hello World/);
}

/** The YAML block of examples/README.md that turns ad-hoc commands on. */
function readmeAdhocBlock(): Record<string, unknown> {
  const readme = readFileSync(path.join(REPO, 'examples/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Seed 004'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(yaml, 'examples/README.md shows the config that turns ad-hoc commands on');
  const block = YAML.parse(yaml) as Record<string, { enabled?: boolean }>;
  assert.equal(block['adhoc']?.enabled, true);
  return block;
}
