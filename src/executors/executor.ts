import type { JobTypeConfig } from '../config/schema.ts';
import type { StartBlock } from '../domain/events.ts';
import type { Job } from '../domain/job.ts';
import type { WorkerConnection, WorkerSpec } from '../worker/protocol.ts';

/**
 * Starts and stops worker processes. The executor owns processes, not jobs: which job a worker
 * runs is decided by gaffer over the worker's connection.
 *
 * Contract: `start` resolves once the process exists (not once it is ready); `hooks.connected` is
 * called when the worker's connection is up — by the executor for a channel it owns (IPC), by the
 * API's `/v1/workers/connect` for a worker that connects over the network, named by its worker id
 * — and the executor calls `hooks.exited` exactly once when the process is gone, whatever the
 * reason. `kill` is idempotent. `close` ends every worker and resolves once all are gone.
 *
 * The optional members are capabilities: an executor that lacks one behaves as its default,
 * stated on each (and applied by the guards below, which is how gaffer reads them).
 * test/executors/executor.contract.ts checks the contract and the capabilities on every executor.
 */
export interface Executor {
  readonly name: string;
  start(req: StartRequest): Promise<void>;
  /** Kills the worker's whole process tree (SIGTERM, then SIGKILL after the grace). */
  kill(workerId: string, graceMs?: number): void;
  /**
   * Kills every worker and waits for them to be gone — but workers made to outlive gaffer, which
   * reconnect to the next gaffer process (a Kubernetes pool's pods), are left running.
   */
  close(): Promise<void>;
  /**
   * Optional. The worker id of a network connection that names itself `connectingId`, for
   * executors whose processes cannot be told gaffer's worker id (a Kubernetes pool pod connects
   * by its pod name, bound to a worker id when the pod appeared). Returns `connectingId` itself
   * when it means nothing here; null to refuse the connection (its process is being removed).
   */
  workerIdFor?(connectingId: string): string | null;
  /**
   * Optional. The gateway has let the worker go (`worker:stopped`); `clean`: it held no job —
   * drained by scale-in, or idle when it went. The executor may then reclaim what the worker ran
   * in (a Kubernetes pool removes exactly that idle pod). Unknown ids are ignored.
   */
  stopped?(workerId: string, clean: boolean): void;
  /** Optional. Resolves once the executor can start workers (informers listed). Default: at once. */
  ready?(): Promise<void>;
  /**
   * Optional. Whether it can run workers of the type as configured now (locally: a command or a
   * handler; Kubernetes: an image; in process: a function given in code). A type no executor can
   * run is not scaled. Default: true.
   */
  canRun?(type: string): boolean;
  /**
   * Optional. How many more workers of the type fit now, after every live worker it started
   * (null: no limit). It counts what it started itself, until each has exited. Default: null.
   */
  room?(type: string): number | null;
  /**
   * Optional. How many of `wanted` more workers of the type may be started now (0…wanted), after
   * the executor's own caps and admission. Start asks it before claiming jobs. Default: wanted.
   */
  admit?(type: string, wanted: number): number;
  /**
   * Optional. Ids of the type's workers it runs that have not connected yet under an id the
   * gateway knows (a restarted gaffer's pool pods, a ReplicaSet's replacements): the autoscaler
   * counts each as starting, so it does not start the pool again beside them. Default: none.
   */
  unboundWorkers?(type: string): string[];
  /**
   * Optional. Whether a type's pool workers must be replaced when its config changes from `was`
   * to `now`, beyond what their worker spec holds (a Kubernetes pool pod is also its image and
   * `kubernetes` section). A changed spec always replaces them. Default: false.
   */
  replacesWorkers?(type: string, was: JobTypeConfig, now: JobTypeConfig): boolean;
  /**
   * Optional. Whether the worker is a process on this machine whose CPU and memory the metrics
   * may read (by its pid). Default: false.
   */
  isLocal?(workerId: string): boolean;
  /** Optional. The share of this machine its workers may use (metrics). Default: null. */
  localCapacity?(): MachineRoom | null;
}

/** Millicores and bytes. */
export interface MachineRoom {
  cpu: number;
  memory: number;
}

export interface StartRequest {
  workerId: string;
  spec: WorkerSpec;
  /** Per-job mode: the job this worker is started for (`job`: its record, already claimed). */
  jobId?: string;
  job?: Job;
}

export interface ExecutorHooks {
  connected(workerId: string, conn: WorkerConnection, pid: number | null): void;
  /** The worker's own stdout/stderr outside any job (per-job workers: the job's logs). */
  output(workerId: string, stream: 'stdout' | 'stderr', data: string): void;
  exited(workerId: string, code: number | null, signal: string | null): void;
  /** Optional. What a started worker waits for before it runs (null: nothing any more). */
  waiting?(workerId: string, block: StartBlock | null): void;
  /**
   * Optional. Drains the worker as scale-in does (the gateway's `retire`): it takes nothing new
   * and exits once its jobs are done. For a worker the executor finds running an outdated
   * definition (a Kubernetes pool pod of an older revision). False: no such worker, or draining.
   */
  retire?(workerId: string): boolean;
}

/** The capability guards: each optional member, or its documented default. */
export const capability = {
  ready: (e: Executor): Promise<void> => e.ready?.() ?? Promise.resolve(),
  canRun: (e: Executor, type: string): boolean => e.canRun?.(type) ?? true,
  room: (e: Executor, type: string): number | null => e.room?.(type) ?? null,
  admit: (e: Executor, type: string, wanted: number): number => e.admit?.(type, wanted) ?? wanted,
  unboundWorkers: (e: Executor, type: string): string[] => e.unboundWorkers?.(type) ?? [],
  replacesWorkers: (e: Executor, type: string, was: JobTypeConfig, now: JobTypeConfig): boolean =>
    e.replacesWorkers?.(type, was, now) ?? false,
  isLocal: (e: Executor, workerId: string): boolean => e.isLocal?.(workerId) ?? false,
  localCapacity: (e: Executor): MachineRoom | null => e.localCapacity?.() ?? null,
};
