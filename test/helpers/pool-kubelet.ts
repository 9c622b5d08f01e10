import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { REPO } from './gaffer.ts';

/**
 * Plays the kubelet for a pool's pods: kwok simulates pods but runs no container, so for each pod
 * of the selected Deployment that turns Running this starts the pod's container here — its
 * `gaffer` command as `node src/cli/main.ts` in the repository (the image's working directory:
 * relative handler paths resolve there), its args with `$(VAR)` expanded, its env resolved as
 * the kubelet would (downward API, Secret references read from the cluster). Records when each
 * pod's deletion was first seen.
 *
 * As a kubelet does for a Deployment's pods (restartPolicy Always):
 * - a container that exits while its pod stays is restarted — the first time at once, then after
 *   a back-off doubling from `initialBackoffMs` up to `maxBackoffMs` (CrashLoopBackOff) — and the
 *   pod's container status says so (restartCount, lastState.terminated with its exit code and
 *   reason: Completed, Error, or OOMKilled for `oomKill`);
 * - a pod being deleted stays Terminating until its container has stopped: SIGTERM, SIGKILL after
 *   the pod's grace period. kwok would delete it at once, so the pod carries the finalizer
 *   `FINALIZER` while its container may run (added before the container starts, removed once it
 *   has exited; kwok-stages.yaml leaves such a pod alone). A pod that never ran goes at once.
 */
export interface PoolKubelet {
  /** Pod name → wall-clock ms when its deletion was first seen (deletionTimestamp or DELETED). */
  readonly deleted: Map<string, number>;
  /** Pods whose container was started. */
  readonly started: Set<string>;
  /** The pod whose container runs as `pid` right now, or null. */
  podOf(pid: number): string | null;
  /**
   * Kills the pod's container as the kernel's OOM killer would (SIGKILL), reported as OOMKilled
   * with exit code 137, then restarted. False when the pod runs no container right now.
   */
  oomKill(pod: string): boolean;
  /** Resolves once no pod of the selection exists and no container of one still runs. */
  noPods(): Promise<void>;
  /** Stops watching, kills every container still running and lets their pods go. */
  stop(): Promise<void>;
}

export interface PoolKubeletOptions {
  /**
   * CrashLoopBackOff: the wait before a container's second restart, doubled at each restart
   * after, up to `maxBackoffMs`. The kubelet's defaults, 10 s and 300 s; Kubernetes 1.33's
   * KubeletCrashLoopBackOffMax lets a node cap it as low as 1 s.
   */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Held by a pod while its container may run: kwok-stages.yaml does not delete such a pod. */
export const FINALIZER = 'gaffer.test/pool-kubelet';

const CLI = path.join(REPO, 'src/cli/main.ts');
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** One pod's container, as this kubelet runs it. */
interface Container {
  pod: V1Pod;
  child: ChildProcess | null;
  /** The pod is being deleted: no restart; its finalizer goes once the container has exited. */
  deleting: boolean;
  /** The finalizer is on the pod (so it must be taken off). */
  finalized: boolean;
  /** The next exit is an OOM kill (`oomKill`). */
  oom: boolean;
  restarts: number;
  /** The next restart's back-off (the first restart waits none). */
  backoffMs: number;
  timer: NodeJS.Timeout | undefined;
  /** The pod's API writes, one at a time. */
  writes: Promise<unknown>;
}

export async function startPoolKubelet(
  kubeconfig: string,
  namespace: string,
  labelSelector: string,
  options: PoolKubeletOptions = {},
): Promise<PoolKubelet> {
  const initialBackoffMs = options.initialBackoffMs ?? 10_000;
  const maxBackoffMs = options.maxBackoffMs ?? 300_000;
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
  const containers = new Map<string, Container>();
  const settled = new Set<() => void>();
  const check = () => {
    if (informer.list().length > 0 || [...containers.values()].some((c) => c.child)) return;
    for (const fn of [...settled]) fn();
  };

  const seen = (pod: V1Pod) => {
    const name = pod.metadata!.name!;
    const c = containers.get(name);
    if (c) c.pod = pod;
    if (pod.metadata?.deletionTimestamp) return gone(pod);
    if (pod.status?.phase !== 'Running' || c) return;
    containers.set(name, {
      pod,
      child: null,
      deleting: false,
      finalized: false,
      oom: false,
      restarts: 0,
      backoffMs: initialBackoffMs,
      timer: undefined,
      writes: Promise.resolve(),
    });
    void first(name).catch((err) => console.error(`pool kubelet: ${name} failed to start`, err));
  };
  const gone = (pod: V1Pod) => {
    const name = pod.metadata!.name!;
    if (!deleted.has(name)) deleted.set(name, Date.now());
    const c = containers.get(name);
    if (!c || c.deleting) return;
    c.deleting = true;
    clearTimeout(c.timer);
    if (!c.child) return release(name, c);
    c.child.kill('SIGTERM');
    const graceMs = (pod.metadata?.deletionGracePeriodSeconds ?? 30) * 1000;
    const child = c.child;
    setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
  };
  informer.on('add', seen);
  informer.on('update', seen);
  informer.on('delete', (pod) => {
    gone(pod);
    const name = pod.metadata!.name!;
    const c = containers.get(name);
    if (c && !c.child) containers.delete(name);
    check();
  });
  let stopping = false;
  informer.on('error', (err) => {
    if (!stopping) console.error('pool kubelet: watch failed', err);
  });

  /** One API write of the pod's, after its earlier ones; logged (unless stopping), never thrown. */
  function write(name: string, c: Container, what: string, fn: () => Promise<unknown>) {
    const next = c.writes.then(fn).catch((err: unknown) => {
      if (!stopping) console.error(`pool kubelet: ${what} of ${name} failed`, err);
    });
    c.writes = next;
    return next;
  }

  /** The container's first start: the finalizer on, then the process. */
  async function first(name: string): Promise<void> {
    const c = containers.get(name)!;
    const finalizers = [...(c.pod.metadata?.finalizers ?? []), FINALIZER];
    // Refused once the pod is being deleted (no new finalizer then): its container never starts.
    await core.patchNamespacedPod({ name, namespace, body: { metadata: { finalizers } } }, MERGE);
    c.finalized = true;
    if (c.deleting) return release(name, c); // deleted while the finalizer was on its way
    const spawnArgs = await resolve(c.pod);
    if (c.deleting) return release(name, c); // deleted while its env was being resolved
    started.add(name);
    launch(name, c, spawnArgs);
  }

  function launch(name: string, c: Container, spawnArgs: SpawnArgs): void {
    const ranFrom = Date.now();
    const child = spawn(process.execPath, spawnArgs.args, {
      cwd: REPO,
      env: spawnArgs.env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    c.child = child;
    child.once('exit', (code, signal) => {
      c.child = null;
      const oom = c.oom;
      c.oom = false;
      if (c.deleting || stopping) {
        if (!stopping) void release(name, c);
        check();
        return;
      }
      // A container that ran long enough starts its back-off over, as the kubelet's does.
      if (Date.now() - ranFrom >= 2 * maxBackoffMs) c.backoffMs = initialBackoffMs;
      const waitMs = c.restarts === 0 ? 0 : c.backoffMs;
      if (c.restarts > 0) c.backoffMs = Math.min(maxBackoffMs, c.backoffMs * 2);
      c.restarts++;
      const exitCode = oom ? 137 : (code ?? 128 + (constants.signals[signal!] ?? 0));
      const reason = oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
      const finishedAt = new Date().toISOString();
      const terminated = {
        exitCode,
        reason,
        startedAt: new Date(ranFrom).toISOString(),
        finishedAt,
      };
      c.timer = setTimeout(() => {
        if (c.deleting || stopping) return;
        launch(name, c, spawnArgs);
        void write(name, c, 'the container status', () =>
          core.patchNamespacedPodStatus(
            {
              name,
              namespace,
              body: { status: { containerStatuses: [restarted(c, terminated)] } },
            },
            MERGE,
          ),
        );
      }, waitMs);
    });
  }

  /** The pod's container status after a restart (the pod runs one container). */
  function restarted(c: Container, terminated: Record<string, unknown>): object {
    const container = c.pod.spec!.containers[0]!;
    return {
      name: container.name,
      image: container.image,
      ready: true,
      started: true,
      restartCount: c.restarts,
      state: { running: { startedAt: new Date().toISOString() } },
      lastState: { terminated },
    };
  }

  /** The finalizer taken off: the pod, Terminating, may go (kwok deletes it). */
  async function release(name: string, c: Container): Promise<void> {
    if (!c.finalized) return;
    c.finalized = false;
    await write(name, c, 'releasing the pod', async () => {
      const rest = (c.pod.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER);
      try {
        await core.patchNamespacedPod(
          { name, namespace, body: { metadata: { finalizers: rest.length ? rest : null } } },
          MERGE,
        );
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err; // 404: gone already
      }
    });
  }

  interface SpawnArgs {
    args: string[];
    env: NodeJS.ProcessEnv;
  }

  async function resolve(pod: V1Pod): Promise<SpawnArgs> {
    const name = pod.metadata!.name!;
    const container = pod.spec!.containers[0]!;
    const env = await containerEnv(pod, container);
    const expand = (arg: string) =>
      arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, v) => env[v] ?? '');
    if (container.command?.[0] !== 'gaffer') throw new Error(`${name} does not run gaffer`);
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('GAFFER_')),
    );
    return { args: [CLI, ...(container.args ?? []).map(expand)], env: { ...base, ...env } };
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
    podOf(pid) {
      for (const [name, c] of containers) if (c.child?.pid === pid) return name;
      return null;
    },
    oomKill(pod) {
      const c = containers.get(pod);
      if (!c?.child || c.deleting) return false;
      c.oom = true;
      c.child.kill('SIGKILL');
      return true;
    },
    noPods: () =>
      new Promise<void>((resolve) => {
        const fn = () => {
          settled.delete(fn);
          resolve();
        };
        settled.add(fn);
        check();
      }),
    async stop() {
      stopping = true;
      await informer.stop();
      await Promise.all(
        [...containers.values()].map(async (c) => {
          clearTimeout(c.timer);
          if (c.child) {
            const exited = once(c.child, 'exit');
            c.child.kill('SIGKILL');
            await exited;
          }
        }),
      );
      // Their pods may go now (a dead node's pods would hang Terminating); the cluster may be
      // gone already: best effort, bounded.
      const releases = [...containers].map(([name, c]) => release(name, c));
      await Promise.race([Promise.allSettled(releases), new Promise((r) => setTimeout(r, 2000))]);
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
