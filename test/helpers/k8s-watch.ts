import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { KubeCluster } from './servers/kube.ts';

/**
 * Watches a collection (one object, by field selector) until `done` holds for an object and the
 * watch event's phase (ADDED, MODIFIED, DELETED): the API server pushes each change, so nothing
 * polls. A watch starts with an ADDED event for each object that exists, so a state reached
 * before the call is seen too.
 */
export async function watchUntil<T>(
  cluster: KubeCluster,
  path: string,
  fieldSelector: string,
  done: (obj: T, phase: string) => boolean,
): Promise<T> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  let resolve!: (obj: T) => void;
  let reject!: (err: unknown) => void;
  const result = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  const req = await new Watch(kc).watch(
    path,
    { fieldSelector },
    (phase: string, obj: T) => {
      if (done(obj, phase)) resolve(obj);
    },
    (err: unknown) => (err ? reject(err) : undefined),
  );
  try {
    return await result;
  } finally {
    req.abort();
  }
}
