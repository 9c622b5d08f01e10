import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { parseConfig } from '../../src/config/load.ts';

// Offline checks of what deploy/kubernetes ships: each core object against Kubernetes' OpenAPI
// schema (kubernetes-models), the ConfigMap's config against gaffer's own schema, and RBAC kept
// namespace-scoped and explicit. The real API server's dry run comes with the test cluster.
// gaffer.yaml and node-reader.yaml are the Helm chart's output (scripts/render-manifests.sh).
/** The fields these tests read, of any object in the files. */
interface Obj {
  kind: string;
  data?: Record<string, string>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  spec?: {
    endpoints?: { path: string }[];
    groups?: unknown;
    triggers?: { metadata: Record<string, string> }[];
  };
}
const docs = (file: string): Obj[] =>
  parseAllDocuments(
    readFileSync(new URL(`../../deploy/kubernetes/${file}`, import.meta.url), 'utf8'),
  ).map((d) => d.toJS() as Obj);
const KINDS: Record<string, new (o: never) => { validate(): void }> = {
  ServiceAccount,
  Role,
  RoleBinding,
  ConfigMap,
  PersistentVolumeClaim,
  Deployment,
  Service,
} as never;

test('gaffer.yaml: every object is valid for its kind', () => {
  const objects = docs('gaffer.yaml');
  assert.deepEqual(objects.map((o) => o.kind).sort(), [
    'ConfigMap',
    'Deployment',
    'PersistentVolumeClaim',
    'Role',
    'RoleBinding',
    'Service',
    'ServiceAccount',
  ]);
  for (const o of objects) new KINDS[o.kind]!(o as never).validate();
});

test('gaffer.yaml: the ConfigMap holds a config gaffer accepts', () => {
  const cm = docs('gaffer.yaml').find((o) => o.kind === 'ConfigMap')!;
  const [doc] = parseAllDocuments(cm.data!['config.yaml']!);
  const config = parseConfig(doc!.toJS(), 'configmap');
  assert.equal(config.store.kind, 'sqlite'); // on the PersistentVolumeClaim
});

test('gaffer.yaml: RBAC is namespace-scoped, with named resources and verbs only', () => {
  const objects = docs('gaffer.yaml');
  assert.ok(!objects.some((o) => o.kind.startsWith('Cluster')), 'no cluster-wide grants');
  const role = objects.find((o) => o.kind === 'Role')!;
  for (const rule of role.rules!) {
    for (const field of [rule.apiGroups, rule.resources, rule.verbs]) {
      assert.ok(!field.includes('*'));
    }
  }
  const can = (resource: string, verb: string) =>
    role.rules!.some((r) => r.resources.includes(resource) && r.verbs.includes(verb));
  assert.ok(can('jobs', 'create') && can('pods', 'delete') && can('deployments/scale', 'patch'));
  assert.ok(can('leases', 'update') && can('pods/log', 'get'));
  assert.ok(can('deployments', 'list') && can('deployments', 'delete'));
  assert.ok(!can('secrets', 'get'), 'gaffer never reads Secrets: pods get them by reference');
});

test('node-reader.yaml: the one cluster-wide grant is read-only nodes', () => {
  const role = docs('node-reader.yaml').find((o) => o.kind === 'ClusterRole')!;
  assert.deepEqual(role.rules, [
    { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] },
  ]);
});

test('monitoring.yaml and the KEDA example name what gaffer serves', () => {
  const [monitor, rules] = docs('monitoring.yaml');
  assert.equal(monitor!.spec!.endpoints![0]!.path, '/metrics');
  const exprs = JSON.stringify(rules!.spec!.groups);
  for (const metric of [
    'job_queue_length',
    'gaffer_oldest_ready_job_age_seconds',
    'gaffer_jobs_finished_total',
  ]) {
    assert.ok(exprs.includes(metric), metric);
  }
  const [keda] = docs('keda-scaledobject.example.yaml');
  assert.match(keda!.spec!.triggers![0]!.metadata['valueLocation']!, /\.backlog$/);
});
