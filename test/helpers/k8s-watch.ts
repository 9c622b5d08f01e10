import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { KubeCluster } from './servers/kube.ts';

/**
 * Watches a collection (one object, by field selector) until `done` holds for an object: the API
 * server pushes each change, so nothing polls.
 */
export async function watchUntil<T>(
  cluster: KubeCluster,
  path: string,
  fieldSelector: string,
  done: (obj: T) => boolean,
): Promise<T> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  let resolve!: (obj: T) => void;
  let reject!: (err: unknown) => void;
  const result = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  const req = await new Watch(kc).watch(
    path,
    { fieldSelector },
    (_phase: string, obj: T) => {
      if (done(obj)) resolve(obj);
    },
    (err: unknown) => (err ? reject(err) : undefined),
  );
  try {
    return await result;
  } finally {
    req.abort();
  }
}
