import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  ServerConfiguration,
  createConfiguration,
  type Middleware,
} from '@kubernetes/client-node';
import { fullBucket, take, type Bucket, type Limit } from './rate-limit.ts';

/**
 * gaffer's Kubernetes API client: the official client's typed APIs, every call of which first
 * takes a token from one QPS/burst bucket (the client-side rate limit) — the same limit client-go puts
 * on controllers. Watches (informers) are long-lived streams and not counted, as in client-go.
 *
 * The bucket runs on the monotonic wall clock, not gaffer's injected clock: it paces real
 * requests to a real server, and a test's frozen clock must not stall them.
 */
export interface KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly limit: Limit;
  /** Calls sent so far, and the total time calls waited for a token (ms). */
  stats(): { requests: number; throttledMs: number };
  /** How long a call made now would wait for a token (ms; 0: it goes at once). */
  throttleMs(): number;
}

export interface KubeClientOptions extends Limit {
  /** A kubeconfig file; absent: in-cluster service account, else $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string | undefined;
}

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault(); // in-cluster when running in a pod, else $KUBECONFIG / ~/.kube/config
  return kc;
}

export function createKubeClient(options: KubeClientOptions): KubeClient {
  const kubeConfig = loadKubeConfig(options.kubeconfig);
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig names no current cluster');
  const limit: Limit = { qps: options.qps, burst: options.burst };
  let bucket: Bucket = fullBucket(limit, performance.now());
  let requests = 0;
  let throttledMs = 0;
  const limiter: Middleware = {
    async pre(context) {
      const taken = take(bucket, limit, performance.now());
      bucket = taken.bucket;
      requests++;
      if (taken.waitMs > 0) {
        throttledMs += taken.waitMs;
        await sleep(taken.waitMs);
      }
      return context;
    },
    post: async (context) => context,
  };
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
    promiseMiddleware: [limiter],
  });
  return {
    kubeConfig,
    batch: new BatchV1Api(configuration),
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    limit,
    stats: () => ({ requests, throttledMs }),
    throttleMs: () => take(bucket, limit, performance.now()).waitMs,
  };
}

/** The HTTP status of a failed API call (client-node's ApiException), or null for other errors. */
export function apiStatus(err: unknown): number | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}
