import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { parseConfig } from '../../src/config/load.ts';
import {
  POOL,
  poolManifest,
  poolName,
  revisionName,
  templateRevision,
} from '../../src/executors/kubernetes/pool-manifest.ts';

// The worker Deployment of a pool type is pure data, checked against Kubernetes' own OpenAPI
// schema (kubernetes-models) here, and run on a real control plane in test/k8s/pool.test.ts.
const typeOf = (kubernetes: Record<string, unknown> = {}) =>
  parseConfig(
    {
      jobTypes: {
        csv_rows: {
          worker: { image: 'ghcr.io/acme/rows:2', command: ['rows'], env: { MODE: 'x' } },
          kubernetes,
        },
      },
    },
    'test',
  ).jobTypes['csv_rows']!;

const build = (kubernetes?: Record<string, unknown>, brokerUrl?: string) =>
  poolManifest({
    typeName: 'csv_rows',
    type: typeOf(kubernetes),
    namespace: 'batch',
    gafferUrl: 'http://gaffer.batch:8080',
    tokenSecret: { name: 'gaffer-worker', key: 'token' },
    brokerUrl,
  });
const container = (m: ReturnType<typeof build>) => m.spec.template.spec.containers[0]!;

describe('Kubernetes worker Deployment (pool mode)', () => {
  test('is a valid apps/v1 Deployment, created empty, selecting its own pods', () => {
    const m = build({
      resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      podLabels: { team: 'data' },
    });
    new Deployment(m as never).validate();
    const revision = m.metadata.labels[POOL.revisionLabel]!;
    assert.match(revision, /^[0-9a-f]{10}$/);
    assert.equal(m.metadata.name, `gaffer-pool-csv-rows-${revision}`);
    assert.equal(m.metadata.namespace, 'batch');
    assert.equal(m.metadata.annotations[POOL.typeAnnotation], 'csv_rows');
    assert.equal(m.spec.replicas, 0, 'gaffer raises it through the scale subresource');
    const selector = {
      'app.kubernetes.io/managed-by': 'gaffer',
      [POOL.label]: 'csv_rows',
      [POOL.revisionLabel]: revision,
    };
    assert.deepEqual(m.metadata.labels, selector);
    assert.deepEqual(m.spec.selector.matchLabels, selector);
    assert.deepEqual(m.spec.template.metadata.labels, { team: 'data', ...selector });
    assert.equal(m.spec.template.metadata.annotations[POOL.typeAnnotation], 'csv_rows');
    assert.deepEqual(container(m).resources, {
      requests: { cpu: '500m', memory: '256Mi' },
      limits: { memory: '512Mi' },
    });
    assert.equal('readinessProbe' in container(m), false);
  });

  test('runs `gaffer worker` for the type, named by its pod, with the broker when given', () => {
    assert.deepEqual(
      [...container(build()).command, ...container(build()).args],
      [
        'gaffer',
        '--url',
        'http://gaffer.batch:8080',
        'worker',
        '--type',
        'csv_rows',
        '--id',
        '$(GAFFER_WORKER_ID)',
      ],
    );
    const withBroker = build({}, 'amqp://rabbitmq:5672');
    new Deployment(withBroker as never).validate();
    assert.deepEqual(container(withBroker).args.slice(-2), ['--broker', 'amqp://rabbitmq:5672']);
  });

  test('env: the pod name as worker id, the type’s env, the token and Secrets by reference only', () => {
    const m = build({ secretEnv: { API_KEY: { secret: 'acme', key: 'api-key' } } });
    new Deployment(m as never).validate();
    const env = container(m).env;
    const named = (name: string) => env.find((e) => e.name === name);
    // Declared before use: Kubernetes expands $(GAFFER_WORKER_ID) in args from it.
    assert.deepEqual(named('GAFFER_WORKER_ID'), {
      name: 'GAFFER_WORKER_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    assert.equal(named('MODE')?.value, 'x');
    assert.deepEqual(named('GAFFER_WORKER_TOKEN')?.valueFrom, {
      secretKeyRef: { name: 'gaffer-worker', key: 'token' },
    });
    assert.deepEqual(named('API_KEY')?.valueFrom, {
      secretKeyRef: { name: 'acme', key: 'api-key' },
    });
    assert.ok(
      env.every((e) => !('value' in e) || !/token/i.test(e.name)),
      'no secret inline',
    );
  });

  test('a GPU pool asks for its GPUs and goes to GPU nodes', () => {
    const m = build({ gpus: 1 });
    new Deployment(m as never).validate();
    assert.deepEqual(container(m).resources, { limits: { 'nvidia.com/gpu': '1' } });
    assert.deepEqual(m.spec.template.spec.nodeSelector, { 'nvidia.com/gpu.present': 'true' });
  });

  test('names are DNS-1123 labels whatever the type name', () => {
    for (const type of ['csv_rows', 'A.b-C', `t${'x'.repeat(80)}`]) {
      const name = poolName(type);
      assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      assert.ok(name.length <= 63, name);
    }
  });

  test('revisions: the hash of the pod template before its revision label, names within 63', () => {
    const m = build();
    const { [POOL.revisionLabel]: revision, ...labels } = m.spec.template.metadata.labels;
    const template = { ...m.spec.template, metadata: { ...m.spec.template.metadata, labels } };
    assert.equal(revision, templateRevision(template));
    assert.equal(m.metadata.name, revisionName('csv_rows', revision!));
    for (const type of ['csv_rows', 'A.b-C', `t${'x'.repeat(80)}`, `${'y'.repeat(39)}-zzz`]) {
      const name = revisionName(type, 'abcdef0123');
      assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      assert.ok(name.length <= 63 && name.endsWith('-abcdef0123'), name);
    }
  });

  test('the revision follows what the pods get, not the order of the config’s keys', () => {
    const of = (k: Record<string, unknown>, env?: Record<string, string>) => {
      const type = typeOf(k);
      const worker = env ? { ...type.worker, env } : type.worker;
      return poolManifest({
        typeName: 'csv_rows',
        type: { ...type, worker },
        namespace: 'batch',
        gafferUrl: 'http://gaffer.batch:8080',
        tokenSecret: { name: 'gaffer-worker', key: 'token' },
      }).metadata.name;
    };
    const base = of({ podLabels: { a: '1', b: '2' } });
    assert.equal(of({ podLabels: { b: '2', a: '1' } }), base, 'same labels, other order');
    const changes: [string, string][] = [
      ['env', of({ podLabels: { a: '1', b: '2' } }, { MODE: 'y' })],
      ['pod labels', of({ podLabels: { a: '1', b: '3' } })],
      ['resources', of({ podLabels: { a: '1', b: '2' }, resources: { requests: { cpu: '1' } } })],
      [
        'secretEnv',
        of({ podLabels: { a: '1', b: '2' }, secretEnv: { K: { secret: 's', key: 'k' } } }),
      ],
      ['GPUs', of({ podLabels: { a: '1', b: '2' }, gpus: 1 })],
    ];
    for (const [what, name] of changes) assert.notEqual(name, base, `${what} changed`);
    assert.equal(new Set(changes.map(([, n]) => n)).size, changes.length);
    assert.notEqual(
      build().metadata.name,
      build({}, 'amqp://rabbitmq:5672').metadata.name,
      'broker',
    );
  });

  test('a type without an image cannot run here', () => {
    const type = typeOf();
    assert.throws(
      () =>
        poolManifest({
          typeName: 'csv_rows',
          type: { ...type, worker: { ...type.worker, image: undefined } } as never,
          namespace: 'batch',
          gafferUrl: 'http://g',
          tokenSecret: { name: 'gaffer-worker', key: 'token' },
        }),
      /no worker.image/,
    );
  });
});
