import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { watchUntil } from '../helpers/k8s-watch.ts';
import {
  CHART,
  MODES,
  helm,
  helmAvailable,
  modeValues,
  objects,
  template,
  type K8sObject,
} from '../helpers/helm.ts';
import {
  k8sBinDir,
  kubeAvailable,
  startCluster,
  type KubeCluster,
} from '../helpers/servers/kube.ts';

// The Helm chart against a real API server: every object the chart renders, with its defaults and
// with each mode's values, passes a server-side dry run with strict field validation (unknown or
// duplicate fields are errors); `helm install` creates the release and its Deployment's pods are
// scheduled onto kwok nodes (kwok plays the kubelet: no container runs, so gaffer's own start in
// the pod is not proven here); and the chart's ServiceAccount may do exactly what gaffer calls.
const NS = 'gaffer';
const SA = `system:serviceaccount:${NS}:gaffer`;
/** Kinds of CRDs the test cluster does not have (their objects are checked in test/deploy/helm.test.ts). */
const CUSTOM = new Set([
  'ServiceMonitor',
  'PrometheusRule',
  'ScaledObject',
  'TriggerAuthentication',
]);

/**
 * Every API call gaffer's Kubernetes executor makes (src/executors/kubernetes: index.ts,
 * pool.ts, leader-lease.ts), as `kubectl auth can-i` verb and resource.
 */
const GAFFER_CALLS: [verb: string, resource: string][] = [
  ['create', 'jobs.batch'], // per-job: a Job per attempt
  ['list', 'jobs.batch'], // the Jobs informer
  ['watch', 'jobs.batch'],
  ['delete', 'jobs.batch'], // cancel, timeout
  ['list', 'pods'], // the pods informer
  ['watch', 'pods'],
  ['patch', 'pods'], // pool scale-in: the idle pod's deletion cost
  ['delete', 'pods'], // pool scale-in: that pod, by name
  ['get', 'pods/log'], // a Job's log becomes the job's log
  ['create', 'deployments.apps'], // pool: a worker Deployment per template revision
  ['list', 'deployments.apps'], // pool: its revisions, at start
  ['delete', 'deployments.apps'], // pool: an old revision, emptied
  ['get', 'deployments.apps/scale'],
  ['patch', 'deployments.apps/scale'],
  ['get', 'leases.coordination.k8s.io'], // the leader lease (one replica runs the autoscaler)
  ['create', 'leases.coordination.k8s.io'],
  ['update', 'leases.coordination.k8s.io'],
];

describe(
  'the Helm chart on a real API server',
  { skip: (!kubeAvailable() || !helmAvailable()) && 'Kubernetes test binaries or helm missing' },
  () => {
    let cluster: KubeCluster;
    let dir: string;
    const kubectl = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          path.join(k8sBinDir(), 'kubectl'),
          [`--kubeconfig=${cluster.kubeconfig}`, ...args],
          (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
        ),
      );
    /** `kubectl auth can-i` as the chart's ServiceAccount; `resource` may name a subresource. */
    const canI = async (verb: string, resource: string, namespaced = true) => {
      const ns = namespaced ? ['-n', NS] : ['--all-namespaces'];
      const [name, sub] = resource.split('/');
      const subresource = sub ? [`--subresource=${sub}`] : [];
      const out = await kubectl([
        'auth',
        'can-i',
        verb,
        name!,
        ...subresource,
        `--as=${SA}`,
        ...ns,
      ]);
      return out.stdout.trim();
    };
    const helmK = (args: string[]) => helm([...args, '--kubeconfig', cluster.kubeconfig]);

    before(async () => {
      cluster = await startCluster({ nodes: 2, cpu: '4', memory: '8Gi', pods: 20 });
      await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: NS } });
      dir = await mkdtemp(path.join(tmpdir(), 'gaffer-helm-'));
    });
    after(async () => {
      await cluster?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    for (const mode of ['defaults', ...MODES] as const) {
      test(`helm template (${mode}): every object passes a strict server-side dry run`, async () => {
        const args = mode === 'defaults' ? [] : ['-f', modeValues(mode)];
        const rendered = objects(await template(args));
        const core = rendered.filter((o) => !CUSTOM.has(o.kind));
        assert.ok(core.some((o) => o.kind === 'Deployment'));
        const file = path.join(dir, `${mode}.yaml`);
        await writeFile(file, core.map((o) => `---\n${stringify(o)}`).join(''));
        const out = await kubectl([
          'apply',
          '--dry-run=server',
          '--validate=strict',
          '-n',
          NS,
          '-f',
          file,
        ]);
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout.trim().split('\n').length, core.length, out.stdout);
      });
    }

    test('strict validation refuses a misspelt field in a rendered object', async () => {
      const [deployment] = objects(await template()).filter((o) => o.kind === 'Deployment');
      const typo = { ...deployment!, spec: { ...deployment!.spec, replica: 1 } } as K8sObject;
      const file = path.join(dir, 'typo.yaml');
      await writeFile(file, stringify(typo));
      const out = await kubectl([
        'apply',
        '--dry-run=server',
        '--validate=strict',
        '-n',
        NS,
        '-f',
        file,
      ]);
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, /unknown field "spec.replica"/);
    });

    test('helm install: the release is deployed and its pods are scheduled', async () => {
      const out = await helmK([
        'install',
        'gaffer',
        CHART,
        '-n',
        NS,
        '-f',
        modeValues('postgres-rabbitmq'),
      ]);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /STATUS: deployed/);
      assert.match(out.stdout, /kubectl port-forward -n gaffer service\/gaffer 8080:8080/, 'NOTES');
      for (const [kind, name] of [
        ['serviceaccount', 'gaffer'],
        ['role', 'gaffer'],
        ['rolebinding', 'gaffer'],
        ['configmap', 'gaffer-config'],
        ['service', 'gaffer'],
        ['deployment', 'gaffer'],
      ] as const) {
        const got = await kubectl(['get', kind, name, '-n', NS, '-o', 'name']);
        assert.equal(got.code, 0, `${kind}/${name}: ${got.stderr}`);
      }
      // Both replicas' pods reach a (kwok) node: the Deployment, its ReplicaSet and the
      // scheduler accepted the pod template.
      const scheduled = new Set<string>();
      await watchUntil<{
        metadata: { name: string; labels?: Record<string, string> };
        spec: { nodeName?: string };
      }>(cluster, `/api/v1/namespaces/${NS}/pods`, '', (pod) => {
        if (pod.metadata.labels?.['app.kubernetes.io/instance'] === 'gaffer' && pod.spec.nodeName) {
          scheduled.add(pod.metadata.name);
        }
        return scheduled.size === 2;
      });
    });

    test("the ServiceAccount may do every call gaffer makes, in gaffer's namespace", async () => {
      for (const [verb, resource] of GAFFER_CALLS) {
        assert.equal(await canI(verb, resource), 'yes', `${verb} ${resource}`);
      }
    });

    test('and nothing it does not: Secrets, other namespaces, cluster-wide writes', async () => {
      const refused: [string, string, boolean][] = [
        ['get', 'secrets', true],
        ['list', 'secrets', true],
        ['watch', 'secrets', true],
        ['create', 'roles.rbac.authorization.k8s.io', true],
        ['create', 'rolebindings.rbac.authorization.k8s.io', true],
        ['update', 'deployments.apps', true],
        ['create', 'pods/exec', true],
        ['create', 'namespaces', false],
        ['create', 'clusterroles.rbac.authorization.k8s.io', false],
        ['create', 'clusterrolebindings.rbac.authorization.k8s.io', false],
        ['list', 'nodes', false],
        ['delete', 'nodes', false],
        ['create', 'jobs.batch', false], // in every namespace
        ['get', 'secrets', false],
      ];
      for (const [verb, resource, namespaced] of refused) {
        assert.equal(await canI(verb, resource, namespaced), 'no', `${verb} ${resource}`);
      }
      const other = await kubectl([
        'auth',
        'can-i',
        'create',
        'jobs.batch',
        `--as=${SA}`,
        '-n',
        'default',
      ]);
      assert.equal(other.stdout.trim(), 'no', 'another namespace');
    });

    test('helm upgrade with the node-reader grant: list and watch nodes, nothing more', async () => {
      const out = await helmK([
        'upgrade',
        'gaffer',
        CHART,
        '-n',
        NS,
        '-f',
        modeValues('postgres-rabbitmq'),
        '--set',
        'rbac.nodeReader=true',
      ]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(await canI('list', 'nodes', false), 'yes');
      assert.equal(await canI('watch', 'nodes', false), 'yes');
      for (const verb of ['get', 'create', 'update', 'patch', 'delete']) {
        assert.equal(await canI(verb, 'nodes', false), 'no', `${verb} nodes`);
      }
      const down = await helmK(['uninstall', 'gaffer', '-n', NS]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(await canI('list', 'nodes', false), 'no', 'the grant goes with the release');
    });
  },
);
