import type { V1Deployment } from '@kubernetes/client-node';
import type { JobTypeConfig } from '../../config/schema.ts';
import type { Logger } from '../../domain/logger.ts';
import type { WorkerSpec } from '../../worker/protocol.ts';
import type { KubeApi } from './api.ts';
import { apiStatus } from './client.ts';
import { LABELS, labelValue } from './job-manifest.ts';
import { POOL, poolManifest, poolName } from './pool-manifest.ts';

/**
 * A pool type's worker Deployments, one per revision of its pod template, and which of them is
 * outdated. The contract: `render` names the type's Deployment from its definition now — a
 * different template is a different revision, so a different Deployment. A Deployment's template
 * is never changed, so the Deployment controller never rolls (kills) a pod. The revision a
 * start went to last is the type's current one (`makeCurrent`); the others are older revisions,
 * whose pods, busy or not, are left to gaffer (drained, and removed one by one when idle, lowering
 * their own Deployment's replicas), and whose Deployment is deleted once at 0 replicas
 * (`dropLater`). At a type's first start in a process, its Deployments already in the cluster (an
 * earlier gaffer's, or `poolName(type)` of before revisions) are adopted the same way.
 *
 * An older revision (`isOld`) is neither the one this process last started a worker on nor, once
 * gaffer knows its own URL, the one its definition renders now (`revisionNow`): so a process that
 * restarted onto a new definition deletes the old Deployments it empties without having started a
 * worker of the type.
 *
 * Each Deployment's changes (a scale-out, a removal, its deletion) run one at a time (`serial`).
 */
export interface Revision {
  type: string;
  deployment: string;
  /** The Deployment exists (created by this process or found); reset after a failure or delete. */
  ensured: Promise<void> | null;
  /** Changes of this Deployment's pods, one at a time (`serial`). */
  queue: Promise<void>;
  /** Worker ids started and waiting for a pod, oldest first. */
  waiting: string[];
  /** Called at each event of one of its pods (a removal waiting for them to settle). */
  changed: Set<() => void>;
}

export interface PoolRevisions {
  /** The Deployment's revision, registered once known (a dropped one may become current again). */
  of(type: string, deployment: string): Revision;
  get(deployment: string): Revision | undefined;
  all(): Iterable<Revision>;
  render(type: string, spec: WorkerSpec): Promise<V1Deployment & { metadata: { name: string } }>;
  revisionNow(type: string): Promise<string | null>;
  /** Creates the revision's Deployment (0 replicas) unless it exists (its name is its hash). */
  ensure(rev: Revision, body: V1Deployment): Promise<void>;
  makeCurrent(rev: Revision): void;
  isCurrent(rev: Revision): boolean;
  /** Deletes the revision's Deployment if it is old and at 0 replicas; logs rather than throws. */
  dropLater(rev: Revision): Promise<void>;
  /** Runs `fn` once the revision's earlier changes are done. */
  serial(rev: Revision, fn: () => Promise<void>): Promise<void>;
  /** Changes the replicas by `by` (read, then a patch carrying the read's resourceVersion). */
  scale(rev: Revision, by: number): Promise<void>;
}

export interface PoolRevisionsOptions {
  api: Pick<
    KubeApi,
    'createDeployment' | 'listDeployments' | 'deleteDeployment' | 'readScale' | 'patchScale'
  >;
  namespace: string;
  jobType(name: string): JobTypeConfig | undefined;
  gafferUrl(): Promise<string>;
  /** The spec gaffer would start a worker of the type with now (undefined: no such type). */
  workerSpec(type: string): WorkerSpec | undefined;
  tokenSecret: { name: string; key: string };
  log: Pick<Logger, 'error'>;
}

/** Tries of a scale read-modify-write that lost a race (409) before giving up. */
const SCALE_TRIES = 5;

export function createPoolRevisions(o: PoolRevisionsOptions): PoolRevisions {
  const { api, log } = o;
  const revisions = new Map<string, Revision>(); // by Deployment name
  /** Per type: the current Deployment, and its adoption of the cluster's (listed once). */
  const types = new Map<string, { current: string | null; adopted: Promise<void> | null }>();

  function of(type: string, deployment: string): Revision {
    let rev = revisions.get(deployment);
    if (!rev) {
      rev = {
        type,
        deployment,
        ensured: null,
        queue: Promise.resolve(),
        waiting: [],
        changed: new Set(),
      };
      revisions.set(deployment, rev);
    }
    return rev;
  }

  function typeState(type: string) {
    let state = types.get(type);
    if (!state) types.set(type, (state = { current: null, adopted: null }));
    return state;
  }

  async function render(typeName: string, spec: WorkerSpec) {
    const type = o.jobType(typeName);
    if (!type) throw new Error(`unknown job type ${typeName}`);
    const broker = spec.broker;
    return poolManifest({
      typeName,
      type,
      namespace: o.namespace,
      gafferUrl: await o.gafferUrl(),
      tokenSecret: o.tokenSecret,
      // An embedded broker is a file on gaffer's machine: pods long-poll gaffer instead.
      brokerUrl: broker && broker.kind !== 'embedded' ? broker.url : undefined,
    });
  }

  /** Null when it cannot be told: no such pool type, no image, gaffer's URL never known. */
  async function revisionNow(typeName: string): Promise<string | null> {
    const spec = o.workerSpec(typeName);
    if (spec?.mode !== 'pool') return null;
    try {
      return (await render(typeName, spec)).metadata.name;
    } catch {
      return null; // a type without an image (refused by `start` too), or gaffer's URL never known
    }
  }

  function ensure(rev: Revision, body: V1Deployment): Promise<void> {
    rev.ensured ??= api
      .createDeployment(body)
      .then(() => {}) // 'exists': an earlier gaffer created it
      .catch((err: unknown) => {
        rev.ensured = null; // the next start tries again
        throw err;
      });
    return rev.ensured;
  }

  /**
   * New workers of the type go to `rev` from now on. The first time, the type's Deployments in the
   * cluster are adopted; each other revision's is dropped if empty already (else once its last
   * pod is removed).
   */
  function makeCurrent(rev: Revision): void {
    const state = typeState(rev.type);
    if (state.current === rev.deployment) return;
    state.current = rev.deployment;
    state.adopted ??= adopt(rev.type).catch((err: unknown) => {
      state.adopted = null; // the next change of revision lists again
      log.error({ err, type: rev.type }, "kubernetes: listing a pool's Deployments failed");
    });
    void state.adopted.then(() => {
      for (const old of revisions.values()) {
        if (old.type === rev.type && !isCurrent(old)) void dropLater(old);
      }
    });
  }

  /** Registers the type's Deployments in the cluster: its revisions, and one of before them. */
  async function adopt(type: string): Promise<void> {
    const selector = `${LABELS.managedBy}=gaffer,${POOL.label}=${labelValue(type)}`;
    for (const d of await api.listDeployments(selector)) {
      const name = d.metadata?.name;
      const owner = d.metadata?.annotations?.[POOL.typeAnnotation];
      // A label value may stand for several type names: the annotation (or the old name) decides.
      if (!name || (owner ? owner !== type : name !== poolName(type))) continue;
      of(type, name).ensured ??= Promise.resolve();
    }
  }

  function isCurrent(rev: Revision): boolean {
    return types.get(rev.type)?.current === rev.deployment;
  }

  /** Not current, and not the definition's now — or, that unknown, another was started since. */
  async function isOld(rev: Revision): Promise<boolean> {
    if (isCurrent(rev)) return false;
    const now = await revisionNow(rev.type);
    return now !== null ? now !== rev.deployment : typeState(rev.type).current !== null;
  }

  function dropLater(rev: Revision): Promise<void> {
    return serial(rev, () => dropIfEmpty(rev)).catch((err: unknown) =>
      log.error(
        { err, deployment: rev.deployment },
        'kubernetes: deleting an old Deployment failed',
      ),
    );
  }

  /**
   * Runs in the revision's `serial`, so no removal of its pods is under way, and only while it is
   * old: a start that made it current again meanwhile queues its scale-out behind this, which
   * then finds no Deployment (404) and lets the next start create it again.
   */
  async function dropIfEmpty(rev: Revision): Promise<void> {
    if (!(await isOld(rev))) return;
    try {
      const { replicas } = await api.readScale(rev.deployment);
      if (replicas > 0 || isCurrent(rev)) return;
      await api.deleteDeployment(rev.deployment);
    } catch (err) {
      if (apiStatus(err) !== 404) throw err; // 404: gone already
    }
    rev.ensured = null;
  }

  /**
   * A removal must run alone: were two idle pods marked cheapest at once, the ReplicaSet could
   * take the second for the first's lower count, and the first's delete by name would then make
   * it create a replacement.
   */
  function serial(rev: Revision, fn: () => Promise<void>): Promise<void> {
    const next = rev.queue.then(fn, fn);
    rev.queue = next.catch(() => {});
    return next;
  }

  /** A concurrent change (another writer, the controller's status updates) is a re-read. */
  async function scale(rev: Revision, by: number): Promise<void> {
    for (let tries = 1; ; tries++) {
      const current = await api.readScale(rev.deployment);
      const replicas = Math.max(0, current.replicas + by);
      const patched = await api.patchScale(rev.deployment, replicas, current.resourceVersion);
      if (patched === 'patched') return;
      if (tries >= SCALE_TRIES) {
        throw new Error(`scaling ${rev.deployment}: conflicts ${tries} times`);
      }
    }
  }

  return {
    of,
    get: (deployment) => revisions.get(deployment),
    all: () => revisions.values(),
    render,
    revisionNow,
    ensure,
    makeCurrent,
    isCurrent,
    dropLater,
    serial,
    scale,
  };
}
