import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Job } from '../../src/domain/job.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { MINIO_BIN, startMinio, type MinioServer } from '../helpers/servers/minio.ts';

/**
 * Data provisioning end to end: a job submitted with `data` gets its inputs downloaded
 * into GAFFER_INPUT_DIR (ctx.inputDir) before it runs, and its GAFFER_OUTPUT_DIR uploaded to
 * `data.output` after it succeeds — on a private MinIO server, and on the local filesystem (the
 * embedded default, no server).
 */

const withMinio = serviceAvailable(MINIO_BIN);
const local = mkdtempSync(path.join(os.tmpdir(), 'gaffer-e2e-data-'));
let minio: MinioServer | undefined;
let s3: S3Client | undefined;
let g: TestGaffer;

/** Upper-cases x.csv into X.CSV: a command worker that knows only its two directories. */
const UPPER =
  'tr a-z A-Z < "$GAFFER_INPUT_DIR/x.csv" > "$GAFFER_OUTPUT_DIR/X.CSV" && echo \'{"ok":true}\'';

before(async () => {
  if (withMinio) {
    minio = await startMinio('gaffer-e2e');
    s3 = minio.client();
    // Credentials reach the workers the standard way: the AWS variables of their environment
    // (the executor passes gaffer's on), never gaffer's config.
    process.env['AWS_ACCESS_KEY_ID'] = minio.accessKeyId;
    process.env['AWS_SECRET_ACCESS_KEY'] = minio.secretAccessKey;
  }
  g = await startGaffer({
    autoscaler: { intervalMs: 50 },
    storage: {
      // Local paths are off unless listed: this test's folder is the one root.
      local: { roots: [local] },
      ...(minio
        ? { s3: { endpoint: minio.endpoint, region: minio.region, forcePathStyle: true } }
        : {}),
    },
    jobTypes: {
      upper: {
        mode: 'per-job',
        worker: { command: ['sh', '-c', UPPER] },
        retry: { maxAttempts: 1 },
        scaling: { max: 2 },
      },
      count: {
        worker: { handler: 'test/e2e/fixtures/data-handlers.ts#countLines' },
        retry: { maxAttempts: 1 },
        scaling: { max: 1 },
      },
    },
  });
});
after(async () => {
  await g?.close();
  s3?.destroy();
  await minio?.stop();
  rmSync(local, { recursive: true, force: true });
});

async function submit(body: object): Promise<Job> {
  const res = await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: body });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().job as Job;
}

async function ended(id: string): Promise<Job> {
  let job: Job | undefined;
  await until(g, async () => {
    job = await g.orch.service.get(id);
    return ['succeeded', 'failed', 'dead_lettered'].includes(job.state);
  });
  return job!;
}

/** What is left under the workers' data scratch directory (it should be nothing). */
const staged = () => readdir(path.join(g.dataDir, 'scratch', 'data')).catch(() => [] as string[]);

describe('local paths (the embedded default)', () => {
  test('a pool handler reads a staged directory and its output is copied out', async () => {
    await mkdir(path.join(local, 'in'), { recursive: true });
    await writeFile(path.join(local, 'in', 'a.txt'), '1\n2\n3\n');
    await writeFile(path.join(local, 'b.txt'), 'x\n');
    const job = await submit({
      type: 'count',
      data: {
        inputs: [`${local}/in/`, `file://${local}/b.txt`],
        output: `file://${local}/out/run-1/`,
      },
    });
    assert.deepEqual(job.data, {
      inputs: [`${local}/in/`, `file://${local}/b.txt`],
      output: `file://${local}/out/run-1/`,
    });
    const done = await ended(job.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.result, {
      result: { files: 2 },
      outputLocation: `file://${local}/out/run-1/`,
      outputs: [`file://${local}/out/run-1/counts.json`],
    });
    const counts = await readFile(path.join(local, 'out', 'run-1', 'counts.json'), 'utf8');
    assert.deepEqual(JSON.parse(counts), { 'a.txt': 3, 'b.txt': 1 });
    assert.deepEqual(await staged(), []);
  });

  test('a missing input fails the attempt as infrastructure, naming the reference', async () => {
    const job = await submit({ type: 'upper', data: { inputs: [`${local}/nope.csv`] } });
    const done = await ended(job.id);
    assert.notEqual(done.state, 'succeeded');
    assert.equal(done.error?.class, 'infrastructure');
    assert.match(done.error?.message ?? '', /downloading inputs failed: .*nope\.csv/);
    assert.deepEqual(await staged(), []);
  });

  test('an invalid reference is refused at submit', async () => {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'upper', data: { inputs: ['relative/x.csv'] } },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'GAFFER_DATA_REF_INVALID');
  });
});

describe('S3 (a private MinIO server)', { skip: !withMinio }, () => {
  test('a per-job command downloads its input and its output is uploaded', async () => {
    const { bucket } = minio!;
    await s3!.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/x.csv', Body: 'a,b\n1,2\n' }));
    const output = `s3://${bucket}/results/run-1/`;
    const job = await submit({
      type: 'upper',
      data: { inputs: [`s3://${bucket}/in/x.csv`], output },
    });
    const done = await ended(job.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.result, {
      result: { ok: true },
      outputLocation: output,
      outputs: [`${output}X.CSV`],
    });
    const got = await s3!.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'results/run-1/X.CSV' }),
    );
    assert.equal(await got.Body?.transformToString(), 'A,B\n1,2\n');
    assert.deepEqual(await staged(), []);
  });

  test('an upload that fails fails the attempt as infrastructure', async () => {
    const { bucket } = minio!;
    await s3!.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/x.csv', Body: 'a\n' }));
    const output = 's3://no-such-bucket/out/';
    const job = await submit({
      type: 'upper',
      data: { inputs: [`s3://${bucket}/in/x.csv`], output },
    });
    const done = await ended(job.id);
    assert.equal(done.error?.class, 'infrastructure');
    assert.match(
      done.error?.message ?? '',
      /uploading output to s3:\/\/no-such-bucket\/out\/ failed: .*NoSuchBucket/,
    );
    assert.deepEqual(await staged(), []);
  });

  test('a missing object fails the attempt as infrastructure, naming it', async () => {
    const ref = `s3://${minio!.bucket}/in/missing.csv`;
    const done = await ended((await submit({ type: 'upper', data: { inputs: [ref] } })).id);
    assert.equal(done.error?.class, 'infrastructure');
    assert.ok(done.error?.message.includes(`${ref}: no such object`), done.error?.message);
  });
});
