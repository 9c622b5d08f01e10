import type { KubernetesAdapter } from '../../src/executors/kubernetes-capabilities.ts';
import type { KubernetesExecutor } from '../../src/executors/kubernetes/index.ts';
import type { Orchestrator } from '../../src/orchestrator.ts';

/** The orchestrator's Kubernetes executor itself (its pool and watch events); throws if none. */
export function kubernetesOf(orch: Pick<Orchestrator, 'executors'>): KubernetesExecutor {
  const adapter = orch.executors.get('kubernetes') as KubernetesAdapter | undefined;
  if (!adapter) throw new Error('this gaffer has no Kubernetes executor');
  return adapter.kubernetes;
}
