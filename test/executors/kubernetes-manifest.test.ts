import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Job as K8sJob } from 'kubernetes-models/batch/v1/Job';
import { parseConfig } from '../../src/config/load.ts';
import {
  jobManifest,
  jobName,
  LABELS,
  memoryFor,
} from '../../src/executors/kubernetes/job-manifest.ts';
import { createCatalog } from '../../src/jobs/catalog.ts';

// The manifests are pure data; each is checked against Kubernetes' own OpenAPI schema
// (kubernetes-models) here, and against a real API server in the integration tests.
const typeOf = (kubernetes: Record<string, unknown> = {}) =>
  parseConfig(
    {
      jobTypes: {
        render: {
          worker: {
            image: 'ghcr.io/acme/render:1.4',
            command: ['render', '--fast'],
            env: { MODE: 'x' },
          },
          timeoutSeconds: 90,
          kubernetes,
        },
      },
    },
    'test',
  ).jobTypes['render']!;

const job = {
  id: '0mwtp7853-0e8dac42-1023',
  type: 'render',
  attempt: 1,
  timeoutMs: 90_000,
  data: null,
};
const build = (
  kubernetes?: Record<string, unknown>,
  extra: Partial<typeof job> = {},
  oomKills = 0,
) =>
  jobManifest({
    job: { ...job, ...extra },
    type: typeOf(kubernetes),
    namespace: 'batch',
    gafferUrl: 'http://gaffer.batch:8080',
    oomKills,
  });
const container = (m: ReturnType<typeof build>) => m.spec.template.spec.containers[0]!;

describe('Kubernetes Job manifest (per-job mode)', () => {
  test('is a valid batch/v1 Job that leaves retries to gaffer and ends with a deadline and a TTL', () => {
    const m = build({
      resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi' } },
    });
    new K8sJob(m as never).validate();
    assert.equal(m.metadata.name, 'gaffer-0mwtp7853-0e8dac42-1023-1');
    assert.equal(m.spec.backoffLimit, 0);
    assert.equal(m.spec.template.spec.restartPolicy, 'Never');
    assert.equal(m.spec.activeDeadlineSeconds, 90 + 60, 'timeout + slack: gaffer times out first');
    assert.equal(m.spec.ttlSecondsAfterFinished, 300);
    assert.deepEqual(m.metadata.labels, {
      [LABELS.managedBy]: 'gaffer',
      [LABELS.jobId]: job.id,
      [LABELS.jobType]: 'render',
      [LABELS.attempt]: '1',
    });
    assert.deepEqual(m.spec.template.metadata.labels, m.metadata.labels);
    assert.deepEqual(container(m).command, ['render', '--fast']);
    assert.deepEqual(container(m).resources, {
      requests: { cpu: '2', memory: '4Gi' },
      limits: { memory: '8Gi' },
    });
  });

  test('env: the job, gaffer’s address, data references, the type’s env, Secrets by reference only', () => {
    const m = build(
      { secretEnv: { AWS_SECRET_ACCESS_KEY: { secret: 'storage', key: 'secret-key' } } },
      { data: { inputs: ['s3://bucket/in.csv'], output: 's3://bucket/out/' } } as never,
    );
    new K8sJob(m as never).validate();
    const env = container(m).env;
    const value = (name: string) => env.find((e) => e.name === name);
    assert.equal(value('GAFFER_JOB_ID')?.value, job.id);
    assert.equal(value('GAFFER_URL')?.value, 'http://gaffer.batch:8080');
    assert.equal(value('GAFFER_INPUTS')?.value, '["s3://bucket/in.csv"]');
    assert.equal(value('GAFFER_OUTPUT')?.value, 's3://bucket/out/');
    assert.equal(value('MODE')?.value, 'x');
    assert.deepEqual(value('AWS_SECRET_ACCESS_KEY'), {
      name: 'AWS_SECRET_ACCESS_KEY',
      valueFrom: { secretKeyRef: { name: 'storage', key: 'secret-key' } },
    });
  });

  test('a GPU type asks for the GPUs, is steered to GPU nodes and tolerates their taint', () => {
    const m = build({ gpus: 2, nodeSelector: { pool: 'batch' } });
    new K8sJob(m as never).validate();
    const spec = m.spec.template.spec;
    assert.deepEqual(container(m).resources, { limits: { 'nvidia.com/gpu': '2' } });
    assert.deepEqual(spec.nodeSelector, { pool: 'batch', 'nvidia.com/gpu.present': 'true' });
    assert.deepEqual(spec.tolerations, [
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    assert.equal(build().spec.template.spec.nodeSelector, undefined, 'none without GPUs');
  });

  test('after OOM kills, the memory climbs the ladder and stays on its last rung', () => {
    const k = {
      resources: { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } },
      memoryLadder: ['2Gi', '4Gi'],
    };
    const memoryAfter = (ooms: number) => container(build(k, {}, ooms)).resources;
    assert.deepEqual(memoryAfter(0), { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } });
    assert.deepEqual(memoryAfter(1), { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } });
    assert.deepEqual(memoryAfter(2), { requests: { memory: '4Gi' }, limits: { memory: '4Gi' } });
    assert.deepEqual(memoryAfter(7), { requests: { memory: '4Gi' }, limits: { memory: '4Gi' } });
    assert.equal(memoryFor([], '1Gi', 3), '1Gi', 'no ladder: the base memory');
  });

  test('names are DNS-1123 labels, unique per attempt, whatever the job id', () => {
    const long = `Job_${'x'.repeat(80)}`;
    for (const [id, attempt] of [
      [job.id, 1],
      [long, 12],
      ['UPPER.dots..', 3],
    ] as const) {
      const name = jobName(id, attempt);
      assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      assert.ok(name.length <= 63, name);
      assert.ok(name.endsWith(`-${attempt}`), name);
    }
    assert.notEqual(jobName(job.id, 1), jobName(job.id, 2));
  });

  test('a type without an image cannot run here', () => {
    const type = typeOf();
    assert.throws(
      () =>
        jobManifest({
          job,
          type: { ...type, worker: { ...type.worker, image: undefined } } as never,
          namespace: 'batch',
          gafferUrl: 'http://g',
        }),
      /no worker.image/,
    );
  });
});

describe('Kubernetes Job manifest of an ad-hoc command', () => {
  const config = parseConfig({ adhoc: { enabled: true, allowedImages: ['alpine:*'] } }, 'test');
  const adhoc = createCatalog({
    jobTypes: {},
    rules: [],
    cost: config.routes.cost,
    adhoc: config.adhoc,
  }).type('adhoc')!;
  const manifest = (payload: unknown) =>
    jobManifest({
      job: { ...job, type: 'adhoc', payload },
      type: adhoc,
      namespace: 'batch',
      gafferUrl: 'http://g',
    });
  const cases: [string, unknown, string][] = [
    ['the payload names its image', { cmd: 'echo hi', image: 'alpine:3.20' }, 'alpine:3.20'],
    ['no image: the default', { cmd: 'echo hi' }, 'busybox'],
  ];
  for (const [name, payload, image] of cases) {
    test(`runs sh -c cmd in its image: ${name}`, () => {
      const m = manifest(payload);
      new K8sJob(m as never).validate();
      assert.equal(container(m).image, image);
      assert.deepEqual(container(m).command, ['sh', '-c', 'echo hi']);
    });
  }

  test("the payload's env joins the container's, under gaffer's own variables", () => {
    const env = container(manifest({ cmd: 'env', env: { A: '1', GAFFER_JOB_ID: 'forged' } })).env;
    assert.ok(env.some((e) => e.name === 'A' && e.value === '1'));
    assert.deepEqual(
      env.filter((e) => e.name === 'GAFFER_JOB_ID').map((e) => e.value),
      [job.id],
    );
  });

  test('admission sizing (no payload) keeps the default image', () => {
    const m = jobManifest({
      job: { ...job, type: 'adhoc' },
      type: adhoc,
      namespace: 'b',
      gafferUrl: '',
    });
    assert.equal(container(m).image, 'busybox');
  });
});
