import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { REPO } from './gaffer.ts';

/**
 * Plays the kubelet for a pool's pods: kwok simulates pods but runs no container, so for each pod
 * of the selected Deployment that turns Running this starts the pod's container here — its
 * `gaffer` command as `node src/cli/main.ts`, its args with `$(VAR)` expanded, its env resolved as
 * the kubelet would (downward API, Secret references read from the cluster). A pod being deleted
 * gets SIGTERM, as from a kubelet. Records when each pod's deletion was first seen.
 */
export interface PoolKubelet {
  /** Pod name → wall-clock ms when its deletion was first seen (deletionTimestamp or DELETED). */
  readonly deleted: Map<string, number>;
  /** Pods whose container was started. */
  readonly started: Set<string>;
  /** Resolves once no pod of the selection exists (after a deletion event, or at once). */
  noPods(): Promise<void>;
  /** Stops watching and kills every container still running. */
  stop(): Promise<void>;
}

const CLI = path.join(REPO, 'src/cli/main.ts');

export async function startPoolKubelet(
  kubeconfig: string,
  namespace: string,
  labelSelector: string,
): Promise<PoolKubelet> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Pod>(
    kc,
    `/api/v1/namespaces/${namespace}/pods`,
    () => core.listNamespacedPod({ namespace, labelSelector }),
    labelSelector,
  );
  const deleted = new Map<string, number>();
  const started = new Set<string>();
  const running = new Map<string, ChildProcess>();

  const seen = (pod: V1Pod) => {
    const name = pod.metadata!.name!;
    if (pod.metadata?.deletionTimestamp) return gone(name);
    if (pod.status?.phase !== 'Running' || started.has(name)) return;
    started.add(name);
    void run(pod).catch((err) => console.error(`pool kubelet: ${name} failed to start`, err));
  };
  const gone = (name: string) => {
    if (!deleted.has(name)) deleted.set(name, Date.now());
    running.get(name)?.kill('SIGTERM');
  };
  informer.on('add', seen);
  informer.on('update', seen);
  const emptied = new Set<() => void>();
  informer.on('delete', (pod) => {
    gone(pod.metadata!.name!);
    if (informer.list().length === 0) for (const fn of emptied) fn();
  });
  let stopping = false;
  informer.on('error', (err) => {
    if (!stopping) console.error('pool kubelet: watch failed', err);
  });

  async function run(pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    const container = pod.spec!.containers[0]!;
    const env = await containerEnv(pod, container);
    const expand = (arg: string) =>
      arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, v) => env[v] ?? '');
    if (container.command?.[0] !== 'gaffer') throw new Error(`${name} does not run gaffer`);
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('GAFFER_')),
    );
    const child = spawn(process.execPath, [CLI, ...(container.args ?? []).map(expand)], {
      env: { ...base, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    running.set(name, child);
    child.once('exit', () => running.delete(name));
    if (deleted.has(name)) child.kill('SIGTERM'); // deleted while its env was being resolved
  }

  /** The container's env as a kubelet resolves it: values, the pod's name, Secrets' keys. */
  async function containerEnv(pod: V1Pod, c: V1Container): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') {
        env[e.name] = pod.metadata!.name!;
      } else if (e.valueFrom?.secretKeyRef) {
        const { name, key } = e.valueFrom.secretKeyRef;
        const secret = await core.readNamespacedSecret({ name: name!, namespace });
        env[e.name] = Buffer.from(secret.data![key]!, 'base64').toString();
      }
    }
    return env;
  }

  await informer.start();
  return {
    deleted,
    started,
    noPods: () =>
      informer.list().length === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const fn = () => {
              emptied.delete(fn);
              resolve();
            };
            emptied.add(fn);
          }),
    async stop() {
      stopping = true;
      await informer.stop();
      await Promise.all(
        [...running.values()].map(async (child) => {
          const exited = once(child, 'exit');
          child.kill('SIGKILL');
          await exited;
        }),
      );
    },
  };
}

// `node test/helpers/pool-kubelet.ts --selector gaffer.dev/pool=T [--namespace N]` plays the
// kubelet by hand for the README's walkthrough ($KUBECONFIG's cluster); Ctrl-C stops it.
if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      selector: { type: 'string' },
      namespace: { type: 'string', default: 'default' },
    },
  });
  const kubeconfig = process.env['KUBECONFIG'];
  if (!kubeconfig || !values.selector) {
    console.error('usage: KUBECONFIG=… node test/helpers/pool-kubelet.ts --selector LABEL=VALUE');
    process.exit(2);
  }
  const kubelet = await startPoolKubelet(kubeconfig, values.namespace, values.selector);
  console.log(`playing the kubelet for pods ${values.selector} in ${values.namespace}`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  await kubelet.stop();
}
