import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Value } from 'typebox/value';
import YAML from 'yaml';
import { JobTypeSchema } from '../../src/config/schema.ts';
import type { JobContext } from '../../src/worker/handler.ts';
import handle, { type CsvRow } from '../../examples/workers/csv-row.ts';
import { generateRows, CSV_HEADER } from '../../src/cli/commands/gen-data.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const CONFIG = path.join(REPO, 'examples/gaffer.config.yaml');
const SENSORS = path.join(REPO, 'examples/data/sensors.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gaffer-examples-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const raw = YAML.parse(readFileSync(CONFIG, 'utf8')) as {
  jobTypes: Record<
    string,
    { worker: { command?: string[]; handler?: string; env?: Record<string, string> } }
  >;
};

describe('examples/gaffer.config.yaml', () => {
  it("has every seed's job type", () => {
    assert.deepEqual(Object.keys(raw.jobTypes).sort(), [
      'actor',
      'batch',
      'csv-row',
      'digital-twin',
      'matrix-multiplication',
      'ml',
      'ml-inference',
      'ml-training',
      'pipeline',
      'spark',
    ]);
  });

  it('every job type matches the schema', () => {
    for (const [name, type] of Object.entries(raw.jobTypes)) {
      const withDefaults = Value.Default(JobTypeSchema, structuredClone(type));
      const errors = [...Value.Errors(JobTypeSchema, withDefaults)].map(
        (e) => `${e.instancePath} ${e.message}`,
      );
      assert.deepEqual(errors, [], name);
    }
  });

  it('loads with the config loader, when there is one', async (t) => {
    const loader = path.join(REPO, 'src/config/load.ts');
    const mod = (await import(loader).catch(() => null)) as {
      parseConfig?: (raw: unknown, source: string) => unknown;
    } | null;
    if (!mod?.parseConfig) return t.skip('src/config/load.ts not there yet');
    assert.doesNotThrow(() => mod.parseConfig!(structuredClone(raw), CONFIG));
  });
});

/** Runs a command worker the way gaffer does: payload on stdin and in a file, env set. */
async function runWorker(type: string, payload: unknown, env: Record<string, string> = {}) {
  const command = raw.jobTypes[type]!.worker.command!;
  const dir = mkdtempSync(path.join(tmp, `${type}-`));
  const payloadFile = path.join(dir, 'payload.json');
  const resultFile = path.join(dir, 'result.json');
  writeFileSync(payloadFile, JSON.stringify(payload));
  const child = promisify(execFile)(command[0]!, command.slice(1), {
    cwd: REPO,
    env: {
      ...process.env,
      ...raw.jobTypes[type]!.worker.env,
      OUTPUT_DIR: path.join(tmp, 'outputs'),
      TWIN_STATE_DIR: path.join(tmp, 'twins'),
      GAFFER_JOB_ID: `job-${type}`,
      GAFFER_JOB_TYPE: type,
      GAFFER_ATTEMPT: '1',
      GAFFER_PAYLOAD_FILE: payloadFile,
      GAFFER_RESULT_FILE: resultFile,
      ...env,
    },
  });
  child.child.stdin!.end(JSON.stringify(payload));
  const { stdout } = await child;
  let result: unknown;
  try {
    result = JSON.parse(readFileSync(resultFile, 'utf8'));
  } catch {
    const last = stdout.trimEnd().split('\n').at(-1) ?? '';
    try {
      result = JSON.parse(last);
    } catch {
      result = stdout.trim();
    }
  }
  return { stdout, result: result as Record<string, unknown> };
}

/** Input and output directories as gaffer's data staging makes them, `files` copied in. */
function stagedDirs(...files: string[]): Record<string, string> {
  const dir = mkdtempSync(path.join(tmp, 'staged-'));
  const input = path.join(dir, 'input');
  const output = path.join(dir, 'output');
  mkdirSync(input);
  mkdirSync(output);
  for (const f of files) copyFileSync(f, path.join(input, path.basename(f)));
  return { GAFFER_INPUT_DIR: input, GAFFER_OUTPUT_DIR: output };
}

/** The worker's refusal: exit 64 (not retried), its reason on stderr. */
async function refused(type: string, payload: unknown, env: Record<string, string>, why: RegExp) {
  await assert.rejects(runWorker(type, payload, env), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 64, err.stderr);
    assert.match(err.stderr, why);
    assert.doesNotMatch(err.stderr, /root:/, 'no content of /etc/passwd');
    return true;
  });
}

describe('example workers', () => {
  it('csv-row normalises a generated row and rejects a bad one', async () => {
    const [row] = [...generateRows({ rows: 1, seed: 1 })];
    const payload = Object.fromEntries(
      CSV_HEADER.map((h, i) => [h, row![i]!]),
    ) as unknown as CsvRow;
    const ctx = (p: CsvRow): JobContext<CsvRow> => ({
      id: 'j',
      type: 'csv-row',
      payload: p,
      attributes: {},
      attempt: 1,
      signal: new AbortController().signal,
      log() {},
    });
    const out = await handle(ctx(payload));
    assert.equal(out.id, 1);
    assert.equal(out.amountCents, Math.round(Number(payload.amount) * 100));
    await assert.rejects(async () => handle(ctx({ ...payload, email: 'nope' })), /invalid email/);
  });

  it('matrix-multiplication multiplies, or sleeps when simulating', async () => {
    const real = await runWorker('matrix-multiplication', { size: 20, seed: 1 });
    assert.equal(real.result['size'], 20);
    assert.equal(typeof real.result['trace'], 'number');
    const sim = await runWorker(
      'matrix-multiplication',
      { size: 20 },
      { SIMULATE_WORKLOAD_DURATION_IN_SEC: '0.1' },
    );
    assert.equal(sim.result['simulated'], true);
  });

  it('the seed 002 worker reports the type it ran as', async () => {
    const r = await runWorker('spark', { rows: 100, estimated_runtime_sec: 5 });
    assert.equal(r.result['ranAs'], 'spark');
    assert.equal(r.result['sleptMs'], 50);
  });

  it('seed 003: pipeline → training → inference, and a digital twin', async () => {
    const staged = stagedDirs(SENSORS);
    const p = await runWorker(
      'pipeline',
      { pipeline_id: 'p', parameters: { input_data: 'sensors.csv' } },
      staged,
    );
    assert.equal(p.result['rows'], 60);
    assert.equal(p.result['output'], 'summary.json', 'named in the output directory');
    const summary = JSON.parse(
      readFileSync(path.join(staged['GAFFER_OUTPUT_DIR']!, 'summary.json'), 'utf8'),
    ) as { columns: Record<string, unknown> };
    assert.ok(summary.columns['temperature']);
    const t = await runWorker(
      'ml-training',
      { dataset: 'sensors.csv', features: ['temperature'], target: 'pressure', epochs: 200 },
      staged,
    );
    assert.ok(Number(t.result['mse']) < 2, `mse ${String(t.result['mse'])}`);
    assert.equal(t.result['modelFile'], 'model.json');
    const model = JSON.parse(
      readFileSync(path.join(staged['GAFFER_OUTPUT_DIR']!, 'model.json'), 'utf8'),
    ) as unknown;
    assert.deepEqual(t.result['model'], model, 'the result holds the model written');
    // The model inline (no data references: outputs go to OUTPUT_DIR/<job id>/) …
    const i = await runWorker('ml-inference', { model, inputs: [{ temperature: 25 }] });
    const first = (i.result['first'] as number[])[0]!;
    assert.ok(Math.abs(first - (100 + 1.8 * 25)) < 2, `predicted ${first}`);
    assert.equal(
      i.result['predictions'],
      path.join(tmp, 'outputs/job-ml-inference/predictions.json'),
    );
    // … or as a file among the job's inputs, with a dataset.
    const modelFile = path.join(tmp, 'model.json');
    writeFileSync(modelFile, JSON.stringify(model));
    const onFiles = await runWorker(
      'ml-inference',
      { model: 'model.json', dataset: 'sensors.csv' },
      stagedDirs(SENSORS, modelFile),
    );
    assert.equal(onFiles.result['count'], 60);
    const d1 = await runWorker('digital-twin', {
      twin_id: 'press-1',
      readings: [{ sensor: 'temperature', value: 20 }],
    });
    const d2 = await runWorker('digital-twin', {
      twin_id: 'press-1',
      readings: [{ sensor: 'temperature', value: 30 }],
    });
    assert.equal(d2.result['updates'], 2);
    assert.equal(d1.result['state'], path.join(tmp, 'twins/press-1.json'));
    const state = JSON.parse(readFileSync(String(d1.result['state']), 'utf8')) as {
      sensors: { temperature: { mean: number } };
    };
    assert.equal(state.sensors.temperature.mean, 25);
    const d3 = await runWorker(
      'digital-twin',
      { twin_id: 'press-2', readings_file: 'sensors.csv' },
      stagedDirs(SENSORS),
    );
    assert.ok((d3.result['sensors'] as string[]).includes('vibration'));
  });

  it('data workers refuse a file name that leaves the input directory, whatever its form', async () => {
    const staged = stagedDirs(SENSORS);
    // A symlink in the input directory that points out of it (staging copies files, but a
    // worker must not trust that).
    symlinkSync('/etc/passwd', path.join(staged['GAFFER_INPUT_DIR']!, 'link.csv'));
    const outside = path.relative(staged['GAFFER_INPUT_DIR']!, '/etc/passwd');
    const pipeline = (name: unknown) => ({ parameters: { input_data: name } });
    const LINEAR = { features: ['a'], target: 'b', weights: [1], means: [0], stds: [1], bias: 0 };
    const cases: [string, unknown, RegExp][] = [
      ['pipeline', pipeline('/etc/passwd'), /not a name relative to the input directory/],
      ['pipeline', pipeline('file:///etc/passwd'), /not a name relative/],
      ['pipeline', pipeline('../../../../../../etc/passwd'), /'\.\.' is not allowed/],
      ['pipeline', pipeline(outside), /'\.\.' is not allowed/],
      ['pipeline', pipeline('link.csv'), /resolves outside the input directory/],
      ['pipeline', pipeline('~/.ssh/id_rsa'), /not a name relative/],
      ['pipeline', pipeline('missing.csv'), /no file missing\.csv in the input directory/],
      ['pipeline', pipeline(42), /expected a file name/],
      ['ml-training', { dataset: '/etc/passwd', features: ['a'], target: 'b' }, /not a name/],
      ['ml-inference', { model: '/etc/passwd', inputs: [{}] }, /not a name/],
      ['ml-inference', { model: 'sensors.csv', inputs: [{}] }, /not a model/],
      ['ml-inference', { model: { features: 'x' }, inputs: [{}] }, /not a model/],
      ['ml-inference', { model: LINEAR, dataset: '../sensors.csv' }, /not allowed/],
      ['digital-twin', { twin_id: 'x', readings_file: '/etc/passwd' }, /not a name/],
      ['digital-twin', { twin_id: '../../x', readings: [{ value: 1 }] }, /twin_id must be/],
      ['digital-twin', { twin_id: '/tmp/x', readings: [{ value: 1 }] }, /twin_id must be/],
      ['digital-twin', { twin_id: '.hidden', readings: [{ value: 1 }] }, /twin_id must be/],
      ['digital-twin', { twin_id: 'a/b', readings: [{ value: 1 }] }, /twin_id must be/],
    ];
    for (const [type, payload, why] of cases) await refused(type, payload, staged, why);
    // No input directory at all (a job without data references): nothing to read.
    await refused('pipeline', pipeline('sensors.csv'), {}, /no input directory.*data\.inputs/);
    assert.ok(!existsSync(path.join(tmp, 'x.json')) && !existsSync('/tmp/x.json'));
  });

  it('the twin worker refuses a state file that is a symlink out of its folder', async () => {
    const twins = mkdtempSync(path.join(tmp, 'twins-'));
    const target = path.join(tmp, 'elsewhere.json');
    writeFileSync(target, '{}');
    symlinkSync(target, path.join(twins, 'evil.json'));
    await refused(
      'digital-twin',
      { twin_id: 'evil', readings: [{ value: 1 }] },
      { TWIN_STATE_DIR: twins },
      /resolves outside the state folder/,
    );
    assert.equal(readFileSync(target, 'utf8'), '{}', 'not written through the link');
  });
});
