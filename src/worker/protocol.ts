import type { StorageConfig } from '../config/schema.ts';
import type { JobData, Outcome } from '../domain/job.ts';

/**
 * The messages between gaffer and a worker process. Local workers speak it over the Node IPC
 * channel; remote workers over the network. Every message about a job carries the lease
 * token the worker was given; gaffer refuses stale ones (invariant 1).
 */

/** A job handed to a worker under a lease. */
export interface Assignment {
  id: string;
  token: number;
  type: string;
  payload: unknown;
  attributes: Record<string, unknown>;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number;
  /** Inputs to download before the job runs and where its output goes (src/storage/). */
  data?: JobData;
  /**
   * The job is a suspect (its last attempt ended with its process dying, `JobError.workerLost`):
   * a pool worker runs its handler in a child process of its own (src/worker/sandbox-runner.ts),
   * never in the worker's process. Absent for everything else, and for per-job workers, whose
   * process holds that one job anyway.
   */
  isolate?: true;
}

export type WorkerMessage =
  /** First message. A per-job worker names the one job it was started for. */
  | {
      t: 'hello';
      workerId: string;
      type: string;
      pid: number;
      jobId?: string;
      concurrency?: number;
    }
  /** Asks for up to `max` more jobs. gaffer answers with `jobs` once it has at least one. */
  | { t: 'claim'; max: number }
  /** Broker mode: the broker delivered these job ids; lease me those that are claimable. */
  | { t: 'claim-jobs'; ids: string[] }
  | { t: 'heartbeat'; leases: { id: string; token: number }[] }
  /** A per-job worker has set up (inputs fetched) and starts the work. */
  | { t: 'started'; id: string; token: number }
  | { t: 'log'; id: string; token: number; stream: 'stdout' | 'stderr'; data: string }
  | { t: 'done'; id: string; token: number; outcome: Outcome };

export type GafferMessage =
  | { t: 'jobs'; jobs: Assignment[] }
  /** Stop this job now (cancelled by a user, or its lease was lost): kill its process tree. */
  | { t: 'cancel'; id: string; reason: string }
  /** Take nothing new, finish what is in flight, then exit 0. */
  | { t: 'drain' }
  /**
   * Broker mode: `claim-jobs` refused for these ids. `requeue` true: the jobs are claimable but
   * not by this worker (it is draining) — give the messages back; false: the jobs are running
   * elsewhere or have ended — the messages are spent (ack them).
   */
  | { t: 'refused'; ids: string[]; requeue: boolean };

/** One worker's link to gaffer, whatever carries it. */
export interface WorkerConnection {
  send(msg: GafferMessage): void;
  onMessage(fn: (msg: WorkerMessage) => void): void;
  onClose(fn: () => void): void;
}

/** Environment variables a worker process is started with. */
export const WORKER_ENV = {
  workerId: 'GAFFER_WORKER_ID',
  type: 'GAFFER_JOB_TYPE',
  /** Set for a per-job worker. */
  jobId: 'GAFFER_JOB_ID',
  /** JSON of the job type's worker spec and limits (WorkerSpec). */
  spec: 'GAFFER_WORKER_SPEC',
} as const;

/** What a worker process needs to know about its type; passed as JSON in GAFFER_WORKER_SPEC. */
export interface WorkerSpec {
  type: string;
  mode: 'pool' | 'per-job';
  concurrency: number;
  command?: string[];
  handler?: string;
  env: Record<string, string>;
  cwd?: string;
  /** Scratch directory for payload and result files. */
  scratchDir: string;
  heartbeatMs: number;
  /** Broker mode: jobs are delivered by this broker instead of long-polled claims. */
  broker?: BrokerRef;
  /** After a timeout, how long a process tree gets between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Object-store settings for jobs with data references; never credentials. */
  storage?: StorageConfig;
}

/** Which broker a worker connects to, and the queue of its type. */
export interface BrokerRef {
  kind: 'embedded' | 'rabbitmq' | 'redis';
  /** Server URL (rabbitmq, redis) or SQLite file path (embedded). */
  url: string;
  queue: string;
  /** Redis and embedded: a delivery its consumer stopped refreshing is reclaimed after this. */
  visibilityTimeoutMs?: number;
}
