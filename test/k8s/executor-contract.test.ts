import { after, before } from 'node:test';
import { loadExecutors, type ExecutorFactory } from '../../src/executors/registry.ts';
import { workerSpec } from '../../src/jobs/worker-spec.ts';
import { startGaffer, until } from '../helpers/gaffer.ts';
import { kubeConfig, preparePool } from '../helpers/k8s-pool.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';
import {
  describeExecutorContract,
  HookLog,
  type ExecutorSubject,
} from '../executors/executor.contract.ts';

// The Executor contract on the Kubernetes pool, on the test control plane: each start is one more
// pod of the type's worker Deployment, which test/helpers/pool-kubelet.ts runs here as a real
// `gaffer worker` named by its pod; it connects over the API, so gaffer learns of its connection
// and exit from the connect route (and of its pod's deletion from the executor's hooks).
const available = kubeAvailable();
const TYPE = 'pooled';
const TOKEN = 'contract-test-worker-token-0123456789';

let cluster: KubeCluster;
let n = 0;
before(async () => {
  if (available) cluster = await startCluster({ nodes: 1, cpu: '8', memory: '16Gi', pods: 40 });
});
after(() => cluster?.stop());

describeExecutorContract(
  'kubernetes pool',
  async (): Promise<ExecutorSubject> => {
    const setup = { namespace: `gaffer-contract-${++n}`, type: TYPE, token: TOKEN };
    const kubelet = await preparePool(cluster, setup);
    const log = new HookLog();
    const factories = await loadExecutors(['kubernetes']);
    const kube = factories.get('kubernetes')!;
    const recorded: ExecutorFactory = (deps) => kube({ ...deps, hooks: log.wrap(deps.hooks) });
    const config = kubeConfig(cluster, setup, {
      [TYPE]: {
        mode: 'pool',
        worker: { image: 'example.com/gaffer:1', command: ['true'] },
        // The autoscaler leaves the contract's workers alone: nothing queued, never idle enough.
        scaling: { min: 0, max: 10, idleSeconds: 3600, scaleToZeroSeconds: 3600 },
        kubernetes: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
      },
      cmd: { worker: { command: ['true'] } },
    });
    const g = await startGaffer(config, undefined, {
      executorFactories: new Map(factories).set('kubernetes', recorded),
    });
    const stops = new Map<string, number>();
    g.orch.events.on('worker:stopped', ({ worker }) => {
      stops.set(worker.id, (stops.get(worker.id) ?? 0) + 1);
    });
    const executor = g.orch.executors.get('kubernetes')!;
    let closed = false;
    return {
      executor,
      log,
      request(workerId) {
        const type = g.orch.catalog.type(TYPE)!;
        g.orch.gateway.register({ id: workerId, type: TYPE, mode: 'pool', concurrency: 1 });
        return { workerId, spec: workerSpec(g.orch.config, TYPE, type) };
      },
      connected: (id) =>
        until(
          g,
          () => g.orch.gateway.workers().some((w) => w.id === id && w.state !== 'starting'),
          ['worker:state', 'worker:started'],
        ),
      exited: (id) => until(g, () => stops.has(id), ['worker:stopped']),
      exits: (id) => stops.get(id) ?? 0,
      types: { runnable: TYPE, notRunnable: 'cmd' },
      closeKeeps: 'pool pods outlive gaffer: their workers reconnect to the next one',
      async close() {
        if (closed) return;
        closed = true;
        await g.close();
        await kubelet.stop();
      },
    };
  },
  { timeout: 300_000, skip: !available && 'Kubernetes test binaries missing' },
);
