import type { Clock } from './domain/clock.ts';
import type { Logger } from './domain/logger.ts';
import type { ResolvedConfig } from './config/load.ts';
import type { ExecutorFactories } from './executors/registry.ts';
import type { JobStore } from './store/job-store.ts';
import type { DataDirLock } from './store/data-dir-lock.ts';
import type { JobHandler } from './worker/handler.ts';

/** What `new Orchestrator` and `Orchestrator.open` are given (src/orchestrator.ts). */
export interface OrchestratorOptions {
  config: ResolvedConfig;
  clock?: Clock;
  /** Run the autoscaler (default true). Tests of the API alone turn it off. */
  autoscale?: boolean;
  /** An opened store (see `Orchestrator.open`); default: the embedded SQLite file. */
  store?: JobStore;
  /**
   * The functions of the job types given in code (the library's `jobs`; `config.jobTypes` holds
   * their settings): their workers run in this process (src/executors/in-process/).
   */
  handlers?: ReadonlyMap<string, JobHandler>;
  /**
   * The embedded store's data folder lock, already taken (src/store/data-dir-lock.ts); released
   * by `close`. Absent with the SQLite store: the constructor takes it.
   */
  lock?: DataDirLock;
  /**
   * gaffer's own log (failures it survives, reloads), handed to every component. Default: the
   * core logger (src/log/logger.ts: JSON lines on stderr, level info).
   */
  log?: Logger;
  /** The executor kinds loaded (`loadExecutors`, done by `open`); default: the local kind only. */
  executorFactories?: ExecutorFactories;
}

/** What a stop did with the jobs that were running (see `Orchestrator.close`). */
export interface StopSummary {
  /** Jobs whose attempt the stop cut short, handed back to the queue (no attempt spent). */
  handedBack: readonly string[];
  /**
   * Jobs whose hand-back the store refused: still in flight in the store, the next start recovers
   * them as after a crash (an attempt is spent).
   */
  unrecorded: readonly string[];
}
