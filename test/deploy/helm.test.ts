import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { resolveConfig } from '../../src/config/load.ts';
import { renderValuesSchema } from '../../scripts/gen-chart-schema.ts';
import {
  CHART,
  MODES,
  REPO,
  helm,
  helmAvailable,
  modeValues,
  objects,
  template,
  type K8sObject,
} from '../helpers/helm.ts';

// The Helm chart offline: lint, the values schema's refusals, what each mode renders (the config
// gaffer reads, the strategy, the secrets by reference), and the files the chart must agree with.
// The real API server's strict dry run, an install and the RBAC checks are in test/k8s/helm.test.ts.
const run = promisify(execFile);
const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');
const byKind = (list: K8sObject[], kind: string) => list.filter((o) => o.kind === kind);
const one = (list: K8sObject[], kind: string) => {
  const found = byKind(list, kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0]!;
};
/** The config file the chart's ConfigMap holds, as text. */
const configText = (list: K8sObject[]) => one(list, 'ConfigMap').data!['config.yaml']!;
/**
 * gaffer's config as gaffer sees it in its pod: the ConfigMap's file layered with the container's
 * environment by gaffer's own loader (a Secret's value stands in as `secret://<name>/<key>`).
 */
async function configOf(list: K8sObject[]) {
  const env: Record<string, string> = {};
  for (const e of (podSpec(list) as unknown as { containers: Container[] }).containers[0]!.env) {
    const ref = e.valueFrom?.secretKeyRef as { name: string; key: string } | undefined;
    env[e.name] = ref ? `secret://${ref.name}/${ref.key}` : (e.value ?? '');
  }
  // GAFFER_API_KEYS is a JSON list of key entries: a stand-in would not parse.
  delete env['GAFFER_API_KEYS'];
  return resolveConfig({ raw: parse(configText(list)), env });
}
interface Container {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: unknown } }[];
}
const podSpec = (list: K8sObject[]) =>
  (one(list, 'Deployment').spec as { template: { spec: { containers: Container[] } } }).template
    .spec;

describe('the Helm chart', { skip: !helmAvailable() && 'helm missing' }, () => {
  test('helm lint --strict passes with the defaults and with every mode', async () => {
    for (const values of [[], ...MODES.map((m) => ['-f', modeValues(m)])]) {
      const out = await helm(['lint', '--strict', CHART, '-n', 'gaffer', ...values]);
      assert.equal(out.code, 0, `${values.join(' ')}: ${out.stdout}${out.stderr}`);
    }
  });

  test("Chart.yaml's appVersion is gaffer's package version", () => {
    const chart = parse(read('deploy/helm/gaffer/Chart.yaml')) as { appVersion: string };
    const pkg = JSON.parse(read('package.json')) as { version: string };
    assert.equal(chart.appVersion, pkg.version);
  });

  for (const file of ['gaffer.yaml', 'node-reader.yaml']) {
    test(`deploy/kubernetes/${file} is the chart's output`, async () => {
      const script = path.join(REPO, 'scripts/render-manifests.sh');
      const { stdout } = await run('bash', [script, '--stdout', file], {
        maxBuffer: 16 * 1024 * 1024,
      });
      assert.equal(
        read(`deploy/kubernetes/${file}`),
        stdout,
        'run: bash scripts/render-manifests.sh',
      );
    });
  }

  test("the PrometheusRule's rules file is deploy/prometheus/gaffer-rules.yaml", async () => {
    assert.equal(
      read('deploy/helm/gaffer/files/gaffer-rules.yaml'),
      read('deploy/prometheus/gaffer-rules.yaml'),
      'run: cp deploy/prometheus/gaffer-rules.yaml deploy/helm/gaffer/files/',
    );
    const rule = one(
      objects(await template(['-f', modeValues('optional-parts')])),
      'PrometheusRule',
    );
    const { groups } = parse(read('deploy/prometheus/gaffer-rules.yaml')) as { groups: unknown };
    assert.deepEqual(rule.spec!['groups'], groups);
  });

  test('the ServiceMonitor and the KEDA objects are those of deploy/kubernetes', async () => {
    const list = objects(await template(['-f', modeValues('optional-parts')]));
    const [monitor] = parseAllDocuments(read('deploy/kubernetes/monitoring.yaml')).map(
      (d) => d.toJS() as K8sObject,
    );
    assert.deepEqual(one(list, 'ServiceMonitor').spec!['endpoints'], monitor!.spec!['endpoints']);
    const [scaled, auth] = parseAllDocuments(
      read('deploy/kubernetes/keda-scaledobject.example.yaml'),
    ).map((d) => d.toJS() as K8sObject);
    assert.deepEqual(one(list, 'ScaledObject').spec, scaled!.spec);
    assert.deepEqual(one(list, 'TriggerAuthentication').spec, auth!.spec);
  });

  test("values.schema.json's config schema is gaffer's (src/config/schema.ts)", () => {
    const text = read('deploy/helm/gaffer/values.schema.json');
    assert.deepEqual(
      JSON.parse(renderValuesSchema(text)),
      JSON.parse(text),
      'run: npx node scripts/gen-chart-schema.ts && npx prettier --write deploy/helm/gaffer/values.schema.json',
    );
  });

  test('the defaults: SQLite on a claim, one replica, Recreate, secrets by reference', async () => {
    const list = objects(await template());
    assert.deepEqual(list.map((o) => o.kind).sort(), [
      'ConfigMap',
      'Deployment',
      'PersistentVolumeClaim',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    const config = await configOf(list);
    assert.equal(config.store.kind, 'sqlite');
    const deployment = one(list, 'Deployment').spec!;
    assert.equal(deployment['replicas'], 1);
    assert.deepEqual(deployment['strategy'], { type: 'Recreate' });
    const pod = podSpec(list) as unknown as {
      securityContext: { runAsNonRoot: boolean; runAsUser: number };
      containers: Container[];
    };
    assert.deepEqual(
      [pod.securityContext.runAsNonRoot, pod.securityContext.runAsUser],
      [true, 10001],
    );
    const env = pod.containers[0]!.env;
    assert.deepEqual(env.find((e) => e.name === 'GAFFER_API_KEYS')?.valueFrom, {
      secretKeyRef: { name: 'gaffer-api-keys', key: 'keys.json' },
    });
    assert.equal(env.find((e) => e.name === 'GAFFER_DATA_DIR')?.value, '/var/lib/gaffer');
    assert.ok(!list.some((o) => o.kind === 'Secret'), 'the chart creates no Secret');
  });

  test('each mode renders a config gaffer accepts, with its store, broker and executor', async () => {
    const expected = {
      sqlite: ['sqlite', 'none', 'local', 1],
      'postgres-rabbitmq': ['postgres', 'rabbitmq', 'local', 2],
      'kubernetes-per-job': ['sqlite', 'none', 'kubernetes', 1],
      'kubernetes-pool': ['postgres', 'none', 'kubernetes', 1],
      'optional-parts': ['sqlite', 'none', 'kubernetes', 1],
    } as const;
    for (const mode of MODES) {
      const list = objects(await template(['-f', modeValues(mode)]));
      const config = await configOf(list);
      const replicas = one(list, 'Deployment').spec!['replicas'];
      assert.deepEqual(
        [config.store.kind, config.broker.kind, config.executor.kind, replicas],
        expected[mode],
        mode,
      );
      // A shared store rolls; the SQLite store's single gaffer is replaced, never doubled.
      const strategy = one(list, 'Deployment').spec!['strategy'];
      assert.deepEqual(strategy, config.store.kind === 'sqlite' ? { type: 'Recreate' } : undefined);
      assert.equal(
        byKind(list, 'PersistentVolumeClaim').length,
        config.store.kind === 'sqlite' ? 1 : 0,
      );
    }
  });

  test('store and broker URLs and the worker token come from Secrets, never from values', async () => {
    const list = objects(await template(['-f', modeValues('postgres-rabbitmq')]));
    const env = podSpec(list).containers[0]!.env;
    assert.deepEqual(env.find((e) => e.name === 'GAFFER_STORE_URL')?.valueFrom, {
      secretKeyRef: { name: 'gaffer-store', key: 'url' },
    });
    assert.deepEqual(env.find((e) => e.name === 'GAFFER_BROKER_URL')?.valueFrom, {
      secretKeyRef: { name: 'gaffer-broker', key: 'url' },
    });
    assert.doesNotMatch(configText(list), /url:/, 'no URL in the ConfigMap');
    assert.equal(
      (await configOf(list)).store.url,
      'secret://gaffer-store/url',
      'the URL from the Secret',
    );
    const pool = objects(await template(['-f', modeValues('kubernetes-pool')]));
    const config = await configOf(pool);
    assert.deepEqual(config.executor.kubernetes.workerTokenSecret, {
      name: 'gaffer-worker',
      key: 'token',
    });
    assert.equal(config.executor.kubernetes.namespace, 'gaffer');
    assert.equal(config.executor.gafferUrl, 'http://gaffer.gaffer.svc:8080');
    assert.deepEqual(
      podSpec(pool).containers[0]!.env.find((e) => e.name === 'GAFFER_WORKER_TOKEN')?.valueFrom,
      { secretKeyRef: { name: 'gaffer-worker', key: 'token' } },
    );
  });

  test('the node-reader grant is off by default and read-only nodes when on', async () => {
    assert.equal(byKind(objects(await template()), 'ClusterRole').length, 0);
    const role = one(objects(await template(['--set', 'rbac.nodeReader=true'])), 'ClusterRole');
    assert.deepEqual(role.rules, [
      { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] },
    ]);
  });

  test('a wrong value fails with the schema error', async () => {
    const refused = async (args: string[], pattern: RegExp) => {
      const out = await helm(['template', 'gaffer', CHART, '-n', 'gaffer', ...args]);
      assert.notEqual(out.code, 0, args.join(' '));
      assert.match(
        out.stderr,
        /values don't meet the specifications of the schema/,
        args.join(' '),
      );
      assert.match(out.stderr, pattern, args.join(' '));
    };
    await refused(['--set-string', 'replicaCount=two'], /replicaCount/);
    await refused(['--set', 'replicas=2'], /additional properties 'replicas' not allowed/);
    await refused(['--set', 'image.tagg=1'], /additional properties 'tagg' not allowed/);
    await refused(['--set', 'config.jobTypes.x.mode=batch'], /mode/);
    // gaffer's own config schema: a misspelt setting fails the install, not gaffer's start.
    await refused(
      [
        '--set',
        'config.jobTypes.x.worker.command={cat}',
        '--set',
        'config.jobTypes.x.concurency=2',
      ],
      /'concurency' not allowed/,
    );
    await refused(['--set', 'config.server.prot=8080'], /'prot' not allowed/);
    await refused(['--set-string', 'config.jobTypes.x.scaling.max=many'], /scaling\/max/);
    await refused(['--set', 'config.store.kind=mysql'], /kind/);
    await refused(['--set', 'secrets.storeUrl.value=postgres://u:p@db/g'], /'value' not allowed/);
    // Two gaffers on one SQLite store: the data-dir lock would refuse the second.
    await refused(['--set', 'replicaCount=2'], /replicaCount/);
    // Worker pods reach any replica through the Service; a replica knows only its own workers.
    await refused(['-f', modeValues('kubernetes-pool'), '--set', 'replicaCount=2'], /replicaCount/);
    const shared = await helm([
      'template',
      'gaffer',
      CHART,
      '--set',
      'replicaCount=2',
      '--set',
      'config.store.kind=postgres',
    ]);
    assert.equal(shared.code, 0, shared.stderr);
  });
});
