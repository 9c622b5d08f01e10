import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ApiJob, Batch } from '../../src/client/index.ts';
import { REPO } from '../helpers/gaffer.ts';
import { api, jobEnded, spawnGaffer, untilEvent, type GafferProcess } from '../helpers/process.ts';

// Each seed's own commands, with the seed's own request shapes, against `npm start` as shipped
// (examples/gaffer.config.yaml): a real `gaffer up` driven as the seed's README drives it — curl
// (here fetch, sending what curl sends) and the seed's CLI command lines. Only the ports differ:
// gaffer listens on free ones, passed as GAFFER_URL and GAFFER_GRPC as a user would.

const MAIN = path.join(REPO, 'src/cli/main.ts');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gaffer-seed-commands-'));
const SENSORS = path.join(REPO, 'examples/data/sensors.csv');
let gaffer: GafferProcess;
let url: string;

before(async () => {
  gaffer = await spawnGaffer(
    ['--config', 'examples/gaffer.config.yaml', '--data-dir', path.join(tmp, 'data')],
    {
      SIMULATE_WORKLOAD_DURATION_IN_SEC: '',
      OUTPUT_DIR: path.join(tmp, 'outputs'),
      TWIN_STATE_DIR: path.join(tmp, 'twins'),
      // The example's gRPC port (9090) may be taken on a shared machine: a free one.
      GAFFER_GRPC_PORT: '0',
    },
  );
  url = gaffer.url;
});
after(async () => {
  gaffer?.child.kill('SIGTERM');
  await gaffer?.exited;
  rmSync(tmp, { recursive: true, force: true });
});

/** The CLI as a user runs it: the address from the environment, no key. */
async function gafferCli(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      cwd: REPO,
      env: { ...process.env, GAFFER_URL: url, GAFFER_GRPC: gaffer.grpc ?? '', GAFFER_API_KEY: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `curl -X POST URL -H 'Content-Type: application/json' -d BODY`: status and JSON answer. */
/** The fields of the seeds' answers (each route answers some of them), or an error. */
interface SeedAnswer {
  job_id: string;
  queue: string;
  type: string;
  status: string;
  resource_requirements: unknown;
  data_access: { input_datasets: string[] };
  job: ApiJob;
  error: { code: string };
}

async function post(route: string, body: unknown): Promise<{ status: number; json: SeedAnswer }> {
  const res = await fetch(`${url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as SeedAnswer };
}

async function logText(id: string): Promise<string> {
  const { lines } = await api<{ lines: { data: string }[] }>(url, `/v1/jobs/${id}/logs?after=0`);
  return lines.map((l) => l.data).join('');
}

describe("Each seed's own commands work against the example config as shipped", () => {
  it('000: curl -X POST -F "file=@data.csv" …/upload (no type): the CSV type, every row runs', async () => {
    const csv = path.join(tmp, 'data.csv');
    const gen = await gafferCli('gen-data', '-n', '200', '-o', csv);
    assert.equal(gen.code, 0, gen.stderr);
    const form = new FormData();
    form.append('file', new Blob([readFileSync(csv)]), 'data.csv');
    const res = await fetch(`${url}/upload`, { method: 'POST', body: form });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    const { batch } = JSON.parse(text) as { batch: Batch };
    assert.equal(batch.type, 'csv-row', 'upload.defaultType of the example config');
    assert.equal(batch.accepted, 200);

    // The CLI without --type: the same default.
    const up = await gafferCli('--json', 'upload', csv);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((JSON.parse(up.stdout) as { batch: Batch }).batch.type, 'csv-row');

    let done: Batch | undefined;
    await untilEvent(url, async () => {
      done = (await api<{ batch: Batch }>(url, `/v1/batches/${batch.id}`)).batch;
      return (done.byState.succeeded ?? 0) === 200;
    });
    const { jobs } = await api<{ jobs: ApiJob[] }>(url, `/v1/jobs?batch=${batch.id}&limit=200`);
    assert.ok(jobs.every((j) => j.type === 'csv-row'));
  });

  it('001: POST /matrix-multiplication/submit-job/, then GET /desired-worker-scale', async () => {
    const { status, json } = await post('/matrix-multiplication/submit-job/', { size: 10 });
    assert.equal(status, 201, JSON.stringify(json));
    const scale = await api<{ types: Record<string, unknown> }>(url, '/desired-worker-scale');
    assert.ok('matrix-multiplication' in scale.types);
    const job = await jobEnded(url, json.job_id);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  });

  it('002: the three submit-job curls route by cost; "high" is the same priority everywhere; /queues/status', async () => {
    const actor = await post('/submit-job', {
      latency_sensitive: true,
      rows: 100,
      estimated_runtime_sec: 1,
    });
    const spark = await post('/submit-job', {
      rows: 50000000,
      estimated_runtime_sec: 300,
      priority: 'high',
    });
    const ml = await post('/submit-job', {
      rows: 5000000,
      estimated_runtime_sec: 100,
      priority: 'normal',
    });
    for (const r of [actor, spark, ml]) assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(actor.json.queue, 'actor-jobs');
    assert.equal(spark.json.queue, 'spark-jobs');
    assert.equal(ml.json.queue, 'spark-jobs', 'cost 15: the seed says ml, its own rule says spark');
    // The same job from the CLI, its priority in the payload: the same priority as /submit-job.
    const viaCli = await gafferCli(
      '--json',
      'submit',
      '--payload',
      '{"rows": 50000000, "estimated_runtime_sec": 300, "priority": "high"}',
    );
    assert.equal(viaCli.code, 0, viaCli.stderr);
    const cliJob = (JSON.parse(viaCli.stdout) as { job: ApiJob }).job;
    assert.equal(cliJob.type, 'spark');
    assert.equal(cliJob.priority, spark.json.job.priority);
    assert.equal(cliJob.priority, 10);

    const status = await api<{ queues: unknown }>(url, '/queues/status');
    assert.ok(JSON.stringify(status.queues).includes('spark-jobs'));
    for (const id of [actor.json.job_id, spark.json.job_id, cliJob.id]) {
      assert.equal((await jobEnded(url, id)).state, 'succeeded');
    }
  });

  it('003: POST /api/jobs with resource_requirements and data_access', async () => {
    const { status, json } = await post('/api/jobs', {
      type: 'pipeline',
      pipeline_id: 'sensor-data-pipeline',
      project_id: 'manufacturing-project',
      parameters: { input_data: 'sensors.csv', output_format: 'json' },
      resource_requirements: { cpu: '2', memory: '4Gi', gpu: false },
      data_access: { input_datasets: [SENSORS] },
    });
    assert.equal(status, 201, JSON.stringify(json));
    assert.equal(json.type, 'pipeline');
    assert.equal(json.status, 'queued');
    assert.deepEqual(json.resource_requirements, { cpu: '2', memory: '4Gi' });
    assert.deepEqual(json.data_access.input_datasets, [SENSORS]);
    const job = await jobEnded(url, json.job_id);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(job.resources, { cpu: '2', memory: '4Gi' });
    assert.equal((job.result as { pipeline_id: string }).pipeline_id, 'sensor-data-pipeline');

    // More than the type declares: refused, nothing queued.
    const over = await post('/api/jobs', {
      type: 'pipeline',
      parameters: { input_data: 'sensors.csv' },
      resource_requirements: { cpu: '64' },
      data_access: { input_datasets: [SENSORS] },
    });
    assert.equal(over.status, 422, JSON.stringify(over.json));
    assert.equal(over.json.error.code, 'GAFFER_RESOURCES_TOO_LARGE');
  });

  for (const mode of ['rest', 'grpc']) {
    it(`004: gaffer --mode ${mode} run --image busybox --cmd "echo Hello World" --timeout 60`, async () => {
      const r = await gafferCli(
        '--mode',
        mode,
        'run',
        '--image',
        'busybox',
        '--cmd',
        'echo Hello World',
        '--timeout',
        '60',
      );
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      const job = await jobEnded(url, id);
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      assert.equal(job.timeoutMs, 60_000);
      assert.deepEqual(job.payload, { cmd: 'echo Hello World', image: 'busybox' });
      assert.match(await logText(id), /Hello World/);
    });
  }

  it('004: each command is in the audit log, its front end named; off the allow-list, refused', async () => {
    const audit = await gafferCli('--json', 'audit', '--action', 'job.run');
    assert.equal(audit.code, 0, audit.stderr);
    const { entries } = JSON.parse(audit.stdout) as {
      entries: { actor: string; outcome: string; details: { cmd?: string; api?: string } }[];
    };
    const runs = entries.filter((e) => e.details.cmd === 'echo Hello World');
    assert.equal(runs.length, 2, JSON.stringify(entries));
    assert.ok(runs.every((e) => e.actor === 'anonymous' && e.outcome === 'ok'));
    assert.deepEqual(runs.map((e) => e.details.api ?? 'http').sort(), ['grpc', 'http']);
    const ubuntu = await gafferCli('run', '--image', 'ubuntu', '--cmd', 'id');
    assert.equal(ubuntu.code, 1);
    assert.match(ubuntu.stderr, /image "ubuntu" is not allowed/);
  });
});
