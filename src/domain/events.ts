import { EventEmitter } from 'node:events';
import type { Job, JobError } from './job.ts';
import type { Logger } from './logger.ts';

import type { WorkerState } from './worker-state.ts';

export type { WorkerState } from './worker-state.ts';

export interface WorkerInfo {
  id: string;
  type: string;
  mode: 'pool' | 'per-job';
  state: WorkerState;
  /** Jobs the worker holds a lease on right now. */
  active: number;
  concurrency: number;
  startedAt: number;
  /** Store-clock ms when it last became idle (null while busy or never idle). */
  idleSince: number | null;
  /** Store-clock ms when it first said it was ready (null or absent: not yet, or not known). */
  readyAt?: number | null;
  pid: number | null;
  /** What a starting worker waits for, as its executor reports it (a pod Pending for capacity). */
  waitingFor?: StartBlock | null;
}

/**
 * Why a started worker is not running yet, as its executor reports it: `capacity` — no room for it
 * (a pod the scheduler cannot place); `rate_limit` — its creation waits for the client-side limit
 * on the Kubernetes API; `starting` — on its way (a pod pulling its image).
 */
export interface StartBlock {
  reason: 'capacity' | 'rate_limit' | 'starting';
  message: string;
}

export interface ScalingDecision {
  type: string;
  at: number;
  from: number;
  to: number;
  /** Worker ids chosen to retire (only idle ones, by construction). */
  retire: string[];
  reason: string;
  inputs: Record<string, number>;
}

export type ScalerStage = 'tick' | 'start' | 'stop';
/**
 * Who found an attempt abandoned: its worker exited, the reconciler saw its lease expire, the next
 * start found it left by a gaffer that died, or gaffer's own stop interrupted it (no attempt spent).
 */
export type RedeliveryCause =
  'worker_lost' | 'lease_expired' | 'gaffer_restarted' | 'gaffer_stopped';

/**
 * Every domain event, `noun:verb`, one payload type each. Metrics, the dashboard's live feed and
 * tests subscribe here; tests await an event instead of sleeping.
 */
export interface GafferEventMap {
  'job:queued': { jobs: readonly Job[] };
  'job:started': { job: Job };
  'job:succeeded': { job: Job };
  'job:retrying': { job: Job; error: JobError };
  'job:failed': { job: Job };
  'job:cancelled': { job: Job };
  /** Not started by its expiresAt: ended as `expired`, never run (the reconciler's sweep). */
  'job:expired': { job: Job };
  'job:log': { jobId: string; stream: 'stdout' | 'stderr'; data: string };
  'worker:started': { worker: WorkerInfo };
  'worker:state': { worker: WorkerInfo };
  /** `clean`: it held no job and exited 0 or was draining (scale-in, a per-job worker done). */
  'worker:stopped': {
    worker: WorkerInfo;
    code: number | null;
    signal: string | null;
    clean: boolean;
  };
  'scaler:decision': { decision: ScalingDecision };
  /** The autoscaler failed to act: a tick that threw, or an executor start or stop that failed. */
  'scaler:error': { stage: ScalerStage; type: string | null; message: string };
  /**
   * A job whose attempt ended without word from its worker went back to the queue, to be handed
   * out again: its worker exited, its lease expired, or gaffer restarted while it ran.
   */
  'job:redelivered': { job: Job; cause: RedeliveryCause };
  'batch:progress': { batchId: string };
  'config:reloaded': { types: string[] };
  /** An operator paused (true) or resumed (false) a type; durable, recorded before this. */
  'type:paused': { type: string; paused: boolean };
  /** This replica took (holder = its instance) or lost (null) the autoscaler lease. */
  'leader:changed': { holder: string | null };
}

export type GafferEventName = keyof GafferEventMap;

/** A typed emitter; a listener that throws is reported, never breaks the emitter's caller. */
export class GafferEvents {
  readonly #emitter = new EventEmitter({ captureRejections: false });
  readonly #log: Pick<Logger, 'error'>;
  /** `log`: where a listener that threw is reported. */
  constructor(log: Pick<Logger, 'error'>) {
    this.#log = log;
    this.#emitter.setMaxListeners(1000);
  }
  emit<K extends GafferEventName>(name: K, payload: GafferEventMap[K]): void {
    for (const listener of this.#emitter.listeners(name)) {
      try {
        (listener as (p: GafferEventMap[K]) => void)(payload);
      } catch (err) {
        this.#log.error({ err, event: name }, 'an event listener threw');
      }
    }
  }
  on<K extends GafferEventName>(name: K, fn: (payload: GafferEventMap[K]) => void): () => void {
    this.#emitter.on(name, fn);
    return () => this.#emitter.off(name, fn);
  }
  /** Resolves with the first payload that matches. */
  once<K extends GafferEventName>(
    name: K,
    match: (payload: GafferEventMap[K]) => boolean = () => true,
  ): Promise<GafferEventMap[K]> {
    return new Promise((resolve) => {
      const off = this.on(name, (payload) => {
        if (match(payload)) {
          off();
          resolve(payload);
        }
      });
    });
  }
}
