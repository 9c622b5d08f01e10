import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import YAML from 'yaml';
import type { ApiJob } from '../../src/client/index.ts';
import { REPO } from '../helpers/gaffer.ts';
import { spawnGaffer, untilEvent, type GafferProcess } from '../helpers/process.ts';

// `npm start` as shipped — examples/gaffer.config.yaml, on loopback, no API key — attacked as an
// anonymous caller: every job type, every way in (POST /v1/jobs, /v1/jobs/batch, /v1/batches as
// NDJSON and CSV, the compatibility aliases, a dead-letter edit and replay), with payloads that
// carry a shell command or name a file outside the job's folders. No configured type may run a
// command (each would create a marker file) or return a byte of a file outside gaffer's data
// folder (/etc/passwd, and a canary file of the test's own). The ad-hoc type runs commands by
// design (test/e2e/seed-commands.test.ts); here only its bounds are tried: a page of
// another site, an image off the allow-list and a timeout over the ceiling run nothing.

const MAIN = path.join(REPO, 'src/cli/main.ts');
const CONFIG = path.join(REPO, 'examples/gaffer.config.yaml');
const SENSORS = path.join(REPO, 'examples/data/sensors.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gaffer-exposure-'));
const markers = path.join(tmp, 'markers');
const secret = path.join(tmp, 'secret');
const twins = path.join(tmp, 'twins');
const outputs = path.join(tmp, 'outputs');
const CANARY = `CANARY${process.pid}x${Date.now()}`;
const canary = path.join(secret, 'canary.csv');
/** /etc/passwd's first line, as a CSV header (what a leaking worker would return). */
const PASSWD = /root:[^"\n]*:0:0:/;

let gaffer: GafferProcess;
let url: string;
/** Every answer gaffer gave, to search for leaked content at the end. */
const answers: string[] = [];
let markerCount = 0;

/** A shell command that would create a new marker file, and that file. */
function shell(): { cmd: string; marker: string } {
  const marker = path.join(markers, `m${++markerCount}`);
  return { cmd: `touch ${marker}`, marker };
}
const allMarkers: string[] = [];
function cmd(): string {
  const s = shell();
  allMarkers.push(s.marker);
  return s.cmd;
}

/** File names that point outside the job's input directory, or try to run a shell. */
function hostileNames(): string[] {
  return [
    '/etc/passwd',
    canary,
    `file://${canary}`,
    `${'../'.repeat(12)}etc/passwd`,
    path.relative(REPO, canary), // from gaffer's working directory
    `examples/data/${'../'.repeat(12)}etc/passwd`,
    '~/.bashrc',
    `x; ${cmd()}`,
    `$(${cmd()})`,
    `\`${cmd()}\``,
  ];
}

async function send(
  method: string,
  route: string,
  body?: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${route}`, {
    method,
    ...(body === undefined
      ? { headers }
      : body instanceof FormData
        ? { body, headers } // fetch sets multipart/form-data with its boundary
        : {
            headers: { 'content-type': contentType, ...headers },
            body: typeof body === 'string' ? body : JSON.stringify(body),
          }),
  });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

before(async () => {
  for (const dir of [markers, secret, twins, outputs]) mkdirSync(dir, { recursive: true });
  writeFileSync(canary, `name,value\n${CANARY},1\n`);
  gaffer = await spawnGaffer(['--config', CONFIG, '--data-dir', path.join(tmp, 'data')], {
    // Where the data workers keep outputs and twin states (gaffer's environment, not config).
    OUTPUT_DIR: outputs,
    TWIN_STATE_DIR: twins,
    SIMULATE_WORKLOAD_DURATION_IN_SEC: '',
    GAFFER_GRPC_PORT: '0', // the example's 9090 may be taken on a shared machine
  });
  url = gaffer.url;
});
after(async () => {
  gaffer?.child.kill('SIGTERM');
  await gaffer?.exited;
  rmSync(tmp, { recursive: true, force: true });
});

const raw = YAML.parse(readFileSync(CONFIG, 'utf8')) as {
  server: { host: string };
  auth?: { keys?: unknown[] };
  adhoc?: { enabled?: boolean; allowedImages?: string[]; maxTimeoutSeconds?: number };
  jobTypes: Record<string, unknown>;
};

/** A payload each type accepts, so the hostile fields are the only thing wrong with it. */
const VALID: Record<string, Record<string, unknown>> = {
  'csv-row': { id: '1', name: 'a', email: 'a@b.cd', amount: '1.00', created_at: '2026-01-01' },
  'matrix-multiplication': { size: 2 },
  actor: { rows: 1, estimated_runtime_sec: 0 },
  spark: { rows: 1, estimated_runtime_sec: 0 },
  ml: { rows: 1, estimated_runtime_sec: 0 },
  batch: { rows: 1, estimated_runtime_sec: 0 },
  pipeline: { parameters: { input_data: 'sensors.csv' } },
  'ml-training': { dataset: 'sensors.csv', features: ['temperature'], target: 'pressure' },
  'ml-inference': { model: 'model.json', inputs: [{ temperature: 1 }] },
  'digital-twin': { twin_id: 'probe', readings: [{ sensor: 't', value: 1 }] },
};
const LINEAR = {
  features: ['temperature'],
  target: 'pressure',
  weights: [1],
  means: [0],
  stds: [1],
  bias: 0,
};

/** Payloads of `type` naming hostile files, each field that names a file in turn. */
function fileProbes(type: string): unknown[] {
  const names = hostileNames();
  switch (type) {
    case 'pipeline':
      return names.map((n) => ({ parameters: { input_data: n } }));
    case 'ml-training':
      return names.map((n) => ({ ...VALID['ml-training'], dataset: n }));
    case 'ml-inference':
      return [
        ...names.map((n) => ({ model: n, inputs: [{ temperature: 1 }] })),
        ...names.map((n) => ({ model: LINEAR, dataset: n })),
      ];
    case 'digital-twin':
      return names.map((n) => ({ twin_id: 'probe', readings_file: n }));
    default:
      return [];
  }
}

describe('npm start as shipped, to an anonymous caller on loopback', () => {
  it('is the config under test: loopback, no API key, ad-hoc commands bounded', () => {
    assert.equal(raw.server.host, '127.0.0.1');
    assert.equal(raw.auth?.keys?.length ?? 0, 0);
    assert.equal(raw.adhoc?.enabled, true);
    assert.ok(
      raw.adhoc?.allowedImages?.every((i) => !i.startsWith('*')),
      'an image allow-list',
    );
    assert.ok((raw.adhoc?.maxTimeoutSeconds ?? Infinity) <= 300, 'a timeout ceiling');
    assert.match(url, /^http:\/\/127\.0\.0\.1:/);
  });

  it('offers no shell and no file outside its data folder, through any type or route', async () => {
    const types = Object.keys(raw.jobTypes);
    const refused: string[] = [];
    const accepted: string[] = [];
    const track = (what: string, r: { status: number; json: Record<string, unknown> }) => {
      if (r.status === 201 || r.status === 200) {
        const id = (r.json['job'] as ApiJob | undefined)?.id ?? (r.json['job_id'] as string);
        if (id) accepted.push(id);
        for (const j of (r.json['jobIds'] as string[] | undefined) ?? []) accepted.push(j);
      } else {
        assert.ok(
          r.status >= 400 && r.status < 500,
          `${what}: ${r.status} ${JSON.stringify(r.json)}`,
        );
        refused.push(what);
      }
    };

    // 1. A shell command in the payload, in every field name a runner might use, to every type.
    for (const type of types) {
      const payload = {
        ...VALID[type],
        cmd: cmd(),
        command: ['sh', '-c', cmd()],
        args: [cmd()],
        script: cmd(),
        image: 'busybox',
      };
      track(`${type} cmd`, await send('POST', '/v1/jobs', { type, payload }));
      track(`/submit/${type} cmd`, await send('POST', `/submit/${type}`, payload));
    }
    // Types that run commands elsewhere: none here but the ad-hoc one.
    for (const type of ['task', 'shell']) {
      const r = await send('POST', '/v1/jobs', { type, payload: { cmd: cmd() } });
      assert.equal(r.status, 400, `${type}: ${JSON.stringify(r.json)}`);
      assert.equal((r.json['error'] as { code: string }).code, 'GAFFER_UNKNOWN_TYPE');
    }
    // The ad-hoc type's bounds: a page of another site cannot make a browser run a command
    // (cross-site request forgery on gaffer's loopback port), nor can an image off the allow-list
    // or a timeout over the ceiling.
    const foreign = { origin: 'https://evil.example' };
    for (const [route, body] of [
      ['/v1/run', { cmd: cmd() }],
      ['/v1/jobs', { type: 'adhoc', payload: { cmd: cmd() } }],
      ['/submit/adhoc', { cmd: cmd() }],
    ] as const) {
      const r = await send('POST', route, body, 'text/plain', foreign);
      assert.equal(r.status, 403, `${route}: ${JSON.stringify(r.json)}`);
      assert.equal((r.json['error'] as { code: string }).code, 'GAFFER_CROSS_ORIGIN');
    }
    const image = await send('POST', '/v1/run', { cmd: cmd(), image: 'ubuntu' });
    assert.equal(image.status, 422, JSON.stringify(image.json));
    const tooLong = await send('POST', '/v1/run', { cmd: cmd(), timeoutSeconds: 3600 });
    assert.equal((tooLong.json['error'] as { code: string }).code, 'GAFFER_TIMEOUT_TOO_LONG');
    const cli = await promisify(execFile)(
      process.execPath,
      [MAIN, '--url', url, 'run', '--image', 'debian', '--cmd', cmd()],
      { cwd: REPO, env: { ...process.env, GAFFER_URL: '', GAFFER_API_KEY: '' } },
    ).catch((err: { code: number; stderr: string }) => err);
    assert.equal((cli as { code: number }).code, 1, 'gaffer run: an image off the allow-list');
    assert.match((cli as { stderr: string }).stderr, /image "debian" is not allowed/);
    // The cost-routed untyped route and the matrix alias, with a command along.
    track(
      '/submit-job cmd',
      await send('POST', '/submit-job', {
        cmd: cmd(),
        latency_sensitive: true,
        rows: 1,
        estimated_runtime_sec: 0,
      }),
    );
    track(
      'matrix alias cmd',
      await send('POST', '/matrix-multiplication/submit-job/', { size: 2, cmd: cmd() }),
    );

    // 2. File names outside the input directory, with and without a staged input beside them.
    const inputs = { inputs: [SENSORS] };
    for (const type of types) {
      for (const payload of fileProbes(type)) {
        track(`${type} file`, await send('POST', '/v1/jobs', { type, payload }));
        track(`${type} file+data`, await send('POST', '/v1/jobs', { type, payload, data: inputs }));
        track(`/submit/${type} file`, await send('POST', `/submit/${type}`, payload));
      }
    }
    // Paths to write: a twin id that leaves the state folder, output and state fields.
    const twinIds = ['../../x', `../${path.relative(twins, markers)}/twin`, '/tmp/x', '..', '.'];
    for (const twin_id of [...twinIds, 'a/../../b', `${'../'.repeat(8)}tmp/x`]) {
      const payload = { twin_id, readings: [{ sensor: 't', value: 1 }] };
      const r = await send('POST', '/v1/jobs', { type: 'digital-twin', payload });
      assert.equal(r.status, 422, `twin_id ${twin_id}: ${JSON.stringify(r.json)}`);
      assert.equal((await send('POST', '/submit/digital-twin', payload)).status, 422);
    }
    const written = path.join(markers, 'written');
    allMarkers.push(written, `${written}.json`, path.join(written, 'summary.json'));
    for (const [type, extra] of [
      ['pipeline', { output: written }],
      ['pipeline', { output_location: `${written}/` }],
      ['ml-training', { output: written }],
      ['ml-inference', { output: written }],
      ['digital-twin', { state: written }],
    ] as const) {
      const r = await send('POST', '/v1/jobs', { type, payload: { ...VALID[type], ...extra } });
      assert.equal(r.status, 422, `${type} ${JSON.stringify(extra)}: the payload names no path`);
    }

    // 3. The same through the batch routes: JSON, NDJSON, and a CSV upload of twin ids.
    const batchJobs = [
      { type: 'pipeline', payload: { parameters: { input_data: '/etc/passwd' } }, data: inputs },
      { type: 'ml-training', payload: { ...VALID['ml-training'], dataset: canary } },
      { type: 'actor', payload: { cmd: cmd() } },
      { type: 'digital-twin', payload: { twin_id: '../../x', readings: [{ value: 1 }] } },
    ];
    track('batch', await send('POST', '/v1/jobs/batch', { jobs: batchJobs }));
    const ndjson = batchJobs.map((j) => JSON.stringify(j)).join('\n');
    const stream = await send('POST', '/v1/batches', ndjson, 'application/x-ndjson');
    assert.equal(stream.status, 201, JSON.stringify(stream.json));
    const form = new FormData();
    const csv = `twin_id,readings_file\n../../x,/etc/passwd\nprobe,${canary}\n`;
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'twins.csv');
    const upload = await send('POST', '/v1/batches?type=digital-twin', form);
    assert.ok(upload.status === 201 || upload.status === 400, JSON.stringify(upload.json));

    await allEnded();

    // 4. A dead-lettered job's payload edited to name a file outside, then replayed.
    const dead = await send('GET', '/v1/dead-letters?type=pipeline&limit=1');
    const [victim] = dead.json['jobs'] as ApiJob[];
    assert.ok(victim, 'a refused pipeline job is dead-lettered (exit 64, not retried)');
    const edit = await send('PATCH', `/v1/dead-letters/${victim.id}`, {
      payload: { parameters: { input_data: '/etc/passwd' } },
    });
    assert.equal(edit.status, 200, JSON.stringify(edit.json));
    assert.equal(
      (await send('PATCH', `/v1/dead-letters/${victim.id}`, { payload: { cmd: cmd() } })).status,
      422,
    );
    const replay = await send('POST', `/v1/dead-letters/${victim.id}/replay`);
    assert.equal(replay.status, 200, JSON.stringify(replay.json));
    await allEnded();

    // Nothing ran a command, nothing read a file outside, nothing wrote outside.
    const jobs = await everyJob();
    // Most probes are accepted and fail in the worker; the strict schemas refuse the others.
    assert.ok(accepted.length > 100 && refused.length > 5, `${accepted.length}/${refused.length}`);
    assert.equal(jobs.length, accepted.length + batchAccepted(stream, upload), 'every job seen');
    for (const job of jobs) {
      answers.push(JSON.stringify((await send('GET', `/v1/jobs/${job.id}/logs`)).json));
      answers.push(JSON.stringify((await send('GET', `/v1/jobs/${job.id}/attempts`)).json));
      const reads = ['pipeline', 'ml-training', 'ml-inference'].includes(job.type);
      const named = JSON.stringify(job.payload);
      if (reads || (job.type === 'digital-twin' && named.includes('readings_file'))) {
        assert.notEqual(job.state, 'succeeded', `${job.type} ${named} must not succeed`);
      }
    }
    answers.push(JSON.stringify((await send('GET', '/v1/dead-letters?limit=1000')).json));
    const everything = answers.join('\n');
    assert.doesNotMatch(everything, PASSWD, '/etc/passwd leaked');
    assert.ok(!everything.includes(CANARY), 'the canary file leaked');
    for (const m of allMarkers) {
      assert.ok(!existsSync(m), `${m}: a command ran, or a write escaped`);
    }
    assert.deepEqual(readdirSync(markers), []);
    assert.deepEqual(readdirSync(twins), [], 'no twin state written for a refused twin');
    for (const stray of ['/tmp/x.json', path.join(REPO, 'x.json'), '/tmp/b.json']) {
      assert.ok(!existsSync(stray), stray);
    }
  });

  // Local data references reach only the roots the example config lists (examples/data and the
  // outputs folder): /etc/passwd, a canary outside them and an output elsewhere are refused.
  it('offers no file outside through data references either', async () => {
    const out = path.join(markers, 'uploaded');
    for (const data of [
      { inputs: ['/etc/passwd'] },
      { inputs: [`file://${canary}`] },
      { inputs: [secret + '/'] },
      { inputs: [SENSORS], output: `${out}/` },
    ]) {
      const name = data.inputs[0]!.endsWith('/') ? 'canary.csv' : path.basename(data.inputs[0]!);
      const payload = { parameters: { input_data: name } };
      const r = await send('POST', '/v1/jobs', { type: 'pipeline', payload, data });
      if (r.status === 201) {
        const id = (r.json['job'] as ApiJob).id;
        await allEnded();
        const job = (await send('GET', `/v1/jobs/${id}`)).json['job'] as ApiJob;
        answers.push(JSON.stringify((await send('GET', `/v1/jobs/${id}/logs`)).json));
        if (!data.output) assert.notEqual(job.state, 'succeeded', JSON.stringify(data));
      } else {
        assert.ok(r.status >= 400 && r.status < 500, JSON.stringify(r.json));
      }
    }
    const everything = answers.join('\n');
    assert.doesNotMatch(everything, PASSWD, '/etc/passwd leaked');
    assert.ok(!everything.includes(CANARY), 'the canary file leaked');
    assert.ok(!existsSync(out), 'data.output wrote outside the allowed roots');
  });
});

/** Jobs the NDJSON and CSV batches accepted (their answers carry counts, not ids). */
function batchAccepted(...answers: { json: Record<string, unknown> }[]): number {
  return answers.reduce(
    (n, a) => n + Number((a.json['batch'] as { accepted: number }).accepted),
    0,
  );
}

async function everyJob(): Promise<ApiJob[]> {
  const jobs: ApiJob[] = [];
  let cursor: string | undefined;
  do {
    const page = await send('GET', `/v1/jobs?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    jobs.push(...(page.json['jobs'] as ApiJob[]));
    cursor = (page.json['nextCursor'] as string | null) ?? undefined;
  } while (cursor);
  return jobs;
}

/** Resolves once no job is queued, starting or running (retries with backoff included). */
async function allEnded(): Promise<void> {
  await untilEvent(url, async () => {
    const jobs = await everyJob();
    return jobs.every((j) => !['queued', 'starting', 'running'].includes(j.state));
  });
}
