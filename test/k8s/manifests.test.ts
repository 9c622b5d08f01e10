import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import { jobManifest } from '../../src/executors/kubernetes/job-manifest.ts';
import {
  kubeJobState,
  type JobStatusView,
  type PodView,
} from '../../src/executors/kubernetes/job-status.ts';
import { watchUntil } from '../helpers/k8s-watch.ts';
import {
  KubeApiError,
  kubeAvailable,
  startCluster,
  type KubeCluster,
} from '../helpers/servers/kube.ts';

// What gaffer ships and what it generates, against the real API server: every object is sent with
// server-side dry run and strict field validation (unknown or duplicate fields are errors), and a
// generated Job is then run for real through the Job controller and a kwok node.
const NS = 'gaffer';
const available = kubeAvailable();

/** Where objects of each kind are created in a namespace. */
const PATHS: Record<string, string> = {
  ServiceAccount: `/api/v1/namespaces/${NS}/serviceaccounts`,
  ConfigMap: `/api/v1/namespaces/${NS}/configmaps`,
  PersistentVolumeClaim: `/api/v1/namespaces/${NS}/persistentvolumeclaims`,
  Service: `/api/v1/namespaces/${NS}/services`,
  Role: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`,
  RoleBinding: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`,
  Deployment: `/apis/apps/v1/namespaces/${NS}/deployments`,
  Job: `/apis/batch/v1/namespaces/${NS}/jobs`,
  ClusterRole: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  ClusterRoleBinding: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
};
const DRY_RUN = '?dryRun=All&fieldValidation=Strict';

const render = parseConfig(
  {
    jobTypes: {
      render: {
        mode: 'per-job',
        worker: { image: 'ghcr.io/acme/render:1.4', command: ['render'] },
        timeoutSeconds: 60,
        kubernetes: {
          resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '256Mi' } },
          memoryLadder: ['512Mi'],
          gpus: 1,
          secretEnv: { TOKEN: { secret: 'render', key: 'token' } },
        },
      },
    },
  },
  'test',
).jobTypes['render']!;
const job = (id: string, data: { inputs: string[]; output: string | null } | null = null) => ({
  id,
  type: 'render',
  attempt: 1,
  timeoutMs: 60_000,
  data,
});

describe(
  'manifests against a real API server',
  { skip: !available && 'Kubernetes test binaries missing' },
  () => {
    let cluster: KubeCluster;
    before(async () => {
      cluster = await startCluster({ nodes: 1, cpu: '4', memory: '8Gi', pods: 20 });
      await cluster.request('POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: NS },
      });
    });
    after(() => cluster?.stop());

    for (const file of ['gaffer.yaml', 'node-reader.yaml']) {
      test(`deploy/kubernetes/${file}: every object passes a strict server-side dry run`, async () => {
        const text = readFileSync(
          new URL(`../../deploy/kubernetes/${file}`, import.meta.url),
          'utf8',
        );
        const objects = parseAllDocuments(text).map((d) => d.toJS() as { kind: string });
        for (const o of objects) {
          const path = PATHS[o.kind];
          assert.ok(path, `no path for ${o.kind}`);
          await cluster.request('POST', `${path}${DRY_RUN}`, o);
        }
      });
    }

    test('a generated Job passes too; a typo in a field does not', async () => {
      const manifest = jobManifest({
        job: job('0mwtp7853-a1', { inputs: ['s3://b/in.csv'], output: 's3://b/out/' }),
        type: render,
        namespace: NS,
        gafferUrl: 'http://gaffer:8080',
        oomKills: 1,
      });
      await cluster.request('POST', `${PATHS['Job']}${DRY_RUN}`, manifest);
      const typo = { ...manifest, spec: { ...manifest.spec, ttlSecondAfterFinished: 60 } };
      await assert.rejects(
        cluster.request('POST', `${PATHS['Job']}${DRY_RUN}`, typo),
        (err: unknown) =>
          err instanceof KubeApiError &&
          err.status === 400 &&
          /ttlSecondAfterFinished/.test(err.body),
      );
    });

    test('a generated Job runs on a kwok node, and its end maps to succeeded', async () => {
      const cpuOnly = { ...render, kubernetes: { ...render.kubernetes, gpus: 0, secretEnv: {} } };
      const manifest = jobManifest({
        job: job('0mwtp7853-b2'),
        type: cpuOnly,
        namespace: NS,
        gafferUrl: 'http://g',
      });
      await cluster.request('POST', PATHS['Job']!, manifest);
      const ended = await watchUntil<JobStatusView>(
        cluster,
        `/apis/batch/v1/namespaces/${NS}/jobs`,
        `metadata.name=${manifest.metadata.name}`,
        // SuccessCriteriaMet / FailureTarget come first (Kubernetes ≥ 1.31); the end is Complete or Failed.
        (j) =>
          (j.status?.conditions ?? []).some(
            (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
          ),
      );
      const pods = await cluster.request<{ items: PodView[] }>(
        'GET',
        `/api/v1/namespaces/${NS}/pods?labelSelector=job-name%3D${manifest.metadata.name}`,
      );
      assert.deepEqual(kubeJobState(ended, pods.items[0]), {
        phase: 'ended',
        outcome: { status: 'succeeded', result: null },
      });
    });
  },
);
