import { KubeConfig, Watch } from '@kubernetes/client-node';
import { startPoolKubelet, type PoolKubelet } from '../test/helpers/pool-kubelet.ts';
import { startProxy, type Proxy } from './proxy.ts';
import { serviceAvailable } from '../test/helpers/servers/common.ts';
import {
  KubeApiError,
  kubeAvailable,
  startCluster,
  type KubeCluster,
} from '../test/helpers/servers/kube.ts';
import { startRabbitMQ } from '../test/helpers/servers/rabbitmq.ts';
import { startRedis } from '../test/helpers/servers/redis.ts';

/**
 * The backends a chaos run puts under gaffer: the embedded default (the store is the queue),
 * RabbitMQ and Redis, each a private server on loopback started by the test harness's helpers;
 * and Kubernetes: the embedded store as the queue, the workers the pods of a pool Deployment on a
 * private control plane (test/helpers/servers/kube.ts), each pod's `gaffer worker` run here by
 * test/helpers/pool-kubelet.ts. Residue is read with the server's own tool (rabbitmqctl,
 * redis-cli, the Kubernetes API), not through gaffer.
 */
export interface Backend {
  name: BackendName;
  /** gaffer's `broker` config section. */
  broker: Record<string, unknown>;
  /** More of gaffer's config, merged over the run's (Kubernetes: executor, server.workerToken). */
  gaffer?: Record<string, unknown>;
  /** More of the chaos type's config, merged over the run's (worker.image, kubernetes.*). */
  typeExtras?: Record<string, unknown>;
  /**
   * What the backend still holds for the run once gaffer has drained: messages of `queue` ready
   * or unacknowledged, as the broker itself counts them; on Kubernetes, the pool's pods beyond
   * its minimum `poolMin`, as the API server lists them.
   */
  messages(queue: string, poolMin: number): Promise<number>;
  /** Stops the broker's process and starts it again `downMs` later (same port and data). */
  restart(downMs: number): Promise<void>;
  /** The broker unreachable for `downMs` (a partition: its proxy carries nothing), then back. */
  unreachable?(downMs: number): Promise<void>;
  /**
   * After a scenario's gaffer has stopped, before the orphan search: takes away what outlives
   * gaffer by design (pool pods), so the next scenario starts clean. Idempotent.
   */
  between?(): Promise<void>;
  /**
   * How long what the server holds for the run may take to reach nothing after the drain; absent:
   * the lease TTL and 10 s (a dead worker's deliveries are reclaimed after the visibility timeout).
   */
  settleMs?: number;
  /** Kubernetes only: the cluster and the pool's kubelet, for its faults. */
  kube?: { cluster: KubeCluster; kubelet: PoolKubelet; namespace: string };
  stop(): Promise<void>;
}

export type BackendName = 'embedded' | 'rabbitmq' | 'redis' | 'kubernetes';
export const BACKENDS: readonly BackendName[] = ['embedded', 'rabbitmq', 'redis', 'kubernetes'];

/**
 * Whether this machine has the backend's server (the embedded one needs none). Like
 * serviceAvailable, kubeAvailable throws in CI (`CI=true`) when the binaries are missing.
 */
export function backendAvailable(name: BackendName): boolean {
  if (name === 'rabbitmq') return serviceAvailable('rabbitmq-server');
  if (name === 'redis') return serviceAvailable('redis-server');
  if (name === 'kubernetes') return kubeAvailable();
  return true;
}

export async function startBackend(name: BackendName): Promise<Backend> {
  if (name === 'kubernetes') return startKubernetes();
  if (name === 'rabbitmq') {
    const server = await startRabbitMQ();
    return brokerBackend(name, server, await startProxy(Number(new URL(server.url).port)), {
      async messages(queue) {
        const out = await server.ctl(['list_queues', 'name', 'messages']);
        const row = out.split('\n').find((l) => l.trim().split(/\s+/)[0] === queue);
        return row ? Number(row.trim().split(/\s+/)[1]) : 0;
      },
    });
  }
  if (name === 'redis') {
    const server = await startRedis();
    return brokerBackend(name, server, await startProxy(server.port), {
      async messages(queue) {
        return Number((await server.cli(['XLEN', `gaffer:q:${queue}`])).trim() || 0);
      },
    });
  }
  return {
    name,
    broker: { kind: 'none' },
    messages: async () => 0, // the store is the queue: its unfinished jobs are the residue
    restart: async () => {},
    stop: async () => {},
  };
}

/** A broker server behind its proxy: how it restarts, partitions and stops is the same for both. */
function brokerBackend(
  name: 'rabbitmq' | 'redis',
  server: {
    url: string;
    shutdown(): Promise<void>;
    restart(): Promise<void>;
    stop(): Promise<void>;
  },
  proxy: Proxy,
  own: Pick<Backend, 'messages'>,
): Backend {
  return {
    name,
    broker: { kind: name, url: through(server.url, proxy), republishAfterMs: 2000 },
    messages: own.messages,
    unreachable: (downMs) => proxy.blackhole(downMs),
    async restart(downMs) {
      await server.shutdown();
      await new Promise((r) => setTimeout(r, downMs)); // the fault's length, not a wait
      await server.restart();
    },
    async stop() {
      await proxy.close();
      await server.stop();
    },
  };
}

/** The broker's URL with the proxy's port: gaffer and its workers reach the broker through it. */
function through(url: string, proxy: Proxy): string {
  const u = new URL(url);
  u.port = String(proxy.port);
  return u.toString().replace(/\/$/, '');
}

/** The pool's namespace, its Deployments' and pods' label (type `chaos`), the worker token. */
const NS = 'gaffer-chaos';
const POOL_LABEL = 'gaffer.dev/pool=chaos';
const TOKEN = 'chaos-worker-token-0123456789abcdef';
/** Bound on taking one scenario's pool away (its pods' workers drain on SIGTERM first). */
const BETWEEN_MS = 60_000;

/**
 * gaffer's executor is Kubernetes in pool mode; the store stays the queue (broker none), so pods
 * long-poll gaffer. Room for every pod at once on two nodes: nothing waits for capacity. The pool
 * kubelet restarts a dead container after at most 1 s (CrashLoopBackOff capped, as Kubernetes
 * 1.33's KubeletCrashLoopBackOffMax allows), so a run drains in seconds, not minutes.
 */
async function startKubernetes(): Promise<Backend> {
  const cluster = await startCluster({ nodes: 2, cpu: '4', memory: '8Gi', pods: 20 });
  let kubelet: PoolKubelet | undefined;
  try {
    await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: NS } });
    // The Secret the pods read the worker token from; gaffer's own copy is server.workerToken.
    await cluster.request('POST', `/api/v1/namespaces/${NS}/secrets`, {
      metadata: { name: 'gaffer-worker' },
      stringData: { token: TOKEN },
    });
    kubelet = await startPoolKubelet(cluster.kubeconfig, NS, POOL_LABEL, {
      initialBackoffMs: 1000,
      maxBackoffMs: 1000,
    });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const pool = kubelet;
  return {
    name: 'kubernetes',
    broker: { kind: 'none' },
    gaffer: {
      server: { workerToken: TOKEN },
      executor: {
        kind: 'kubernetes',
        kubernetes: { kubeconfig: cluster.kubeconfig, namespace: NS, qps: 50, burst: 100 },
      },
    },
    typeExtras: {
      mode: 'pool',
      // What a real cluster would pull; here each pod's worker runs from this checkout.
      worker: { image: 'example.com/gaffer:1' },
      kubernetes: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
    },
    async messages(_queue, poolMin) {
      const pods = await cluster.request<{ items: unknown[] }>(
        'GET',
        `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(POOL_LABEL)}`,
      );
      return Math.max(0, pods.items.length - poolMin);
    },
    restart: async () => {},
    between: () => removePool(cluster, pool),
    // Pool scale-in removes one pod at a time, each once the ReplicaSet's ranking allows; after a
    // gaffer restart its restarted workers' pods come back first, so give it the removal's own
    // bound (SETTLE_MS in pool.ts) and a margin.
    settleMs: 45_000,
    kube: { cluster, kubelet: pool, namespace: NS },
    async stop() {
      await pool.stop();
      await cluster.stop();
    },
  };
}

/**
 * Deletes the pool's Deployments (one per pod-template revision; gaffer's URL is part of the
 * template) in the foreground — each goes only after its ReplicaSets and pods, and a pod only
 * after its container has stopped (the pool kubelet) — and waits for all of them. Each scenario's
 * gaffer listens on its own port, which the pods carry: a pod of an earlier scenario's
 * Deployment would reach a gaffer that is gone, so none may be left.
 */
async function removePool(cluster: KubeCluster, kubelet: PoolKubelet): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const path = `/apis/apps/v1/namespaces/${NS}/deployments`;
  const list = await cluster.request<{
    items: { metadata: { name: string } }[];
    metadata: { resourceVersion: string };
  }>('GET', `${path}?labelSelector=${encodeURIComponent(POOL_LABEL)}`);
  const left = new Set(list.items.map((d) => d.metadata.name));
  let done!: () => void;
  const gone = new Promise<void>((resolve) => (done = resolve));
  if (left.size === 0) done();
  // From the list's version: every deletion after it is seen, none before it is missed.
  const watch = await new Watch(kc).watch(
    path,
    { labelSelector: POOL_LABEL, resourceVersion: list.metadata.resourceVersion },
    (phase: string, d: { metadata: { name: string } }) => {
      if (phase === 'DELETED' && left.delete(d.metadata.name) && left.size === 0) done();
    },
    () => {},
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    for (const name of left) {
      await cluster
        .request('DELETE', `${path}/${name}?propagationPolicy=Foreground`)
        .catch(notFound);
    }
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the pool's Deployments outlived ${BETWEEN_MS} ms`)),
        BETWEEN_MS,
      );
    });
    await Promise.race([Promise.all([gone, kubelet.noPods()]), timeout]);
  } finally {
    clearTimeout(timer);
    watch.abort();
  }
}

function notFound(err: unknown): void {
  if (!(err instanceof KubeApiError && err.status === 404)) throw err;
}
