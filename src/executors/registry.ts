import type { ResolvedConfig } from '../config/load.ts';
import type { JobTypeConfig } from '../config/schema.ts';
import type { TimedClock } from '../domain/clock.ts';
import type { Logger } from '../domain/logger.ts';
import type { LeaderLease } from '../store/leader-lease.ts';
import type { JobHandler } from '../worker/handler.ts';
import type { WorkerSpec } from '../worker/protocol.ts';
import { byType } from './by-type.ts';
import type { Executor, ExecutorHooks } from './executor.ts';
import { createInProcessExecutor } from './in-process/index.ts';
import { createLocalProcessExecutor } from './local-process/index.ts';
import { storeSecrets } from './local-process/network.ts';

/**
 * The one registry of executors: a kind names a factory. The Kubernetes executor's modules are
 * imported only by `loadExecutors` when a kind in use needs them: @kubernetes/client-node alone
 * is ~88 MB of resident memory, which a local gaffer never uses. So building is in two steps:
 * `loadExecutors` (async, `Orchestrator.open`) and `createExecutors` (sync, the constructor);
 * the local kind needs no loading.
 */
export type ExecutorKind = ResolvedConfig['executor']['kind'];

/** What an executor is built from; read once, at start. */
export interface ExecutorDeps {
  config: Pick<ResolvedConfig, 'executor' | 'store'>;
  hooks: ExecutorHooks;
  /** A job type as configured now (a reload applies at once). */
  jobType(name: string): JobTypeConfig | undefined;
  /** The spec a worker of the type would be started with now. */
  workerSpec(type: string): WorkerSpec | undefined;
  heartbeatMs: number;
  /** gaffer's API address, known once it listens (networked workers, pods). */
  gafferUrl(): Promise<string>;
  /** What gaffer's networked workers present at /v1/workers/connect. */
  workerToken: string | undefined;
  /** gaffer's clock: every deadline, re-check and heartbeat an executor keeps runs on it. */
  clock: TimedClock;
  log: Logger;
}

export interface BuiltExecutor {
  executor: Executor;
  /** Who runs the autoscaler among replicas, when the executor offers one (a Kubernetes Lease). */
  leaderLease?: LeaderLease;
}

export type ExecutorFactory = (deps: ExecutorDeps) => BuiltExecutor;

/** Factories of the kinds loaded so far. */
export type ExecutorFactories = ReadonlyMap<ExecutorKind, ExecutorFactory>;

const local: ExecutorFactory = (d) => ({
  executor: createLocalProcessExecutor({
    hooks: d.hooks,
    jobType: d.jobType,
    local: d.config.executor.local,
    ...(d.config.executor.transport === 'network'
      ? {
          network: {
            gafferUrl: d.gafferUrl,
            token: d.workerToken!,
            secrets: storeSecrets(d.config.store.url),
          },
        }
      : {}),
  }),
});

/** The kinds a config uses: `executor.kind` and every type's own `executor`. */
export function executorKinds(config: Pick<ResolvedConfig, 'executor' | 'jobTypes'>) {
  const kinds = new Set<ExecutorKind>([config.executor.kind]);
  for (const type of Object.values(config.jobTypes)) if (type.executor) kinds.add(type.executor);
  return kinds;
}

/** Imports what the kinds need; the local kind needs nothing. */
export async function loadExecutors(kinds: Iterable<ExecutorKind>): Promise<ExecutorFactories> {
  const factories = new Map<ExecutorKind, ExecutorFactory>([['local', local]]);
  for (const kind of kinds) {
    if (kind === 'kubernetes' && !factories.has(kind)) {
      const { createKubernetes } = await import('./kubernetes-capabilities.ts');
      factories.set(kind, createKubernetes);
    }
  }
  return factories;
}

/** Without `loadExecutors`: only the local kind. */
export const LOCAL_ONLY: ExecutorFactories = new Map([['local', local]]);

/**
 * Builds each kind the config uses, plus the in-process executor when functions are given in
 * code, routed by type (`byType`): in code → in-process; else the type's `executor`, else
 * `executor.kind`. Returns the router, each executor by kind, and the default kind's leader lease.
 */
export function createExecutors(
  config: Pick<ResolvedConfig, 'executor' | 'jobTypes'>,
  deps: ExecutorDeps,
  factories: ExecutorFactories,
  handlers: ReadonlyMap<string, JobHandler>,
) {
  const executors = new Map<string, Executor>();
  let leaderLease: LeaderLease | null = null;
  for (const kind of executorKinds(config)) {
    const factory = factories.get(kind);
    if (!factory) {
      throw new Error(`the ${kind} executor is loaded by Orchestrator.open (or loadExecutors)`);
    }
    const built = factory(deps);
    executors.set(kind, built.executor);
    if (kind === config.executor.kind) leaderLease = built.leaderLease ?? null;
  }
  if (handlers.size > 0) {
    const handler = (type: string) => handlers.get(type);
    executors.set('in-process', createInProcessExecutor({ handler, hooks: deps.hooks }));
  }
  const kindOf = (type: string) =>
    handlers.has(type) ? 'in-process' : (deps.jobType(type)?.executor ?? config.executor.kind);
  return { executor: byType(executors, kindOf), executors, leaderLease };
}
