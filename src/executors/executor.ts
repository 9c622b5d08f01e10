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
 * reason. `kill` is idempotent.
 */
export interface Executor {
  readonly name: string;
  start(req: StartRequest): Promise<void>;
  /** Kills the worker's whole process tree (SIGTERM, then SIGKILL after the grace). */
  kill(workerId: string, graceMs?: number): void;
  /** Kills every worker and waits for them to be gone. */
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
   * in (a Kubernetes pool removes exactly that idle pod).
   */
  stopped?(workerId: string, clean: boolean): void;
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
