import type { JobTypeConfig } from '../config/schema.ts';
import type { Clock } from '../domain/clock.ts';
import type { ScalingDecision, WorkerInfo } from '../domain/events.ts';
import type { JobView } from '../domain/job.ts';
import type { JobListing, QueueStats } from '../store/roles/job-listing.ts';
import type { ScalingLog, WorkerEvent } from '../store/roles/scaling-log.ts';
import type { Hold } from '../domain/flow.ts';
import type { Catalog } from './catalog.ts';
import type { Throughput } from './throughput.ts';
import { waiting, type Waiting } from './waiting.ts';
import type { WorkerGateway } from './worker-gateway.ts';

export interface QueueViewOptions {
  store: Pick<JobListing, 'queueStats' | 'queuePosition'> &
    Pick<ScalingLog, 'decisions' | 'workerEvents'>;
  gateway: Pick<WorkerGateway, 'workers' | 'pendingReason'>;
  /** The autoscaler's last decision per type (`ControlLoop.lastDecisions`). */
  lastDecisions: () => ReadonlyMap<string, Pick<ScalingDecision, 'inputs'>>;
  throughput: Pick<Throughput, 'perMinute'>;
  /** The catalog in force (a reload replaces it). */
  catalog: () => Catalog;
  /** `autoscaler.capacity`: workers of every type at most (null: no global cap). */
  capacity: () => number | null;
  /** More workers of a type the executor has room for now (null: no limit). */
  room: (type: string) => number | null;
  /** Whether this gaffer's executor can start workers of the type at all. */
  runnable: (type: string) => boolean;
  clock: Clock;
  /** Why its type's pause or flow limits hold a queued job now (`JobService.flowHold`). */
  flowHold: (job: JobView) => Promise<Hold | null>;
  /** The types an operator paused (`JobService.pausedTypes`). */
  pausedTypes: () => Promise<readonly { type: string }[]>;
}

/** One type's queue as `GET /v1/queues` shows it. */
export interface QueueStatus {
  type: string;
  queue: string;
  mode: JobTypeConfig['mode'];
  ready: number;
  delayed: number;
  inFlight: number;
  /** Ready + in flight: the work a pool must hold. */
  backlog: number;
  byState: QueueStats['byState'];
  oldestReadyAt: number | null;
  workers: { starting: number; idle: number; busy: number; draining: number };
  desired: number;
  min: number;
  max: number;
  /**
   * An operator paused the type: it accepts jobs and starts none (docs/flow-control.md). Always
   * set by this gaffer; optional for the typed client of an older one, which does not say.
   */
  paused?: boolean;
}

/**
 * The read side of the queues: backlog per type, the workers, what the autoscaler wants and why,
 * and why a job waits. Reads only; every front end (HTTP, the library) shows the same numbers.
 */
export class QueueView {
  readonly #o: QueueViewOptions;

  constructor(options: QueueViewOptions) {
    this.#o = options;
  }

  /** Per type: ready, delayed, in flight, counts by state, the oldest ready job's age. */
  stats(): Promise<QueueStats[]> {
    return this.#o.store.queueStats(this.#o.clock.now());
  }

  /** Workers of one type, or of every type. */
  workers(type?: string): WorkerInfo[] {
    return this.#o.gateway.workers(type);
  }

  /** Per type: the backlog, the workers by state, and what the autoscaler wants. */
  async status(): Promise<QueueStatus[]> {
    const stats = new Map((await this.stats()).map((s) => [s.type, s]));
    const paused = new Set((await this.#o.pausedTypes()).map((p) => p.type));
    const desired = this.desired();
    const catalog = this.#o.catalog();
    return catalog.names().map((type) => {
      const config = catalog.type(type)!;
      const s = stats.get(type);
      const workers = { starting: 0, idle: 0, busy: 0, draining: 0 };
      for (const w of this.#o.gateway.workers(type)) if (w.state !== 'stopped') workers[w.state]++;
      return {
        type,
        queue: config.queue,
        mode: config.mode,
        ready: s?.ready ?? 0,
        delayed: s?.delayed ?? 0,
        inFlight: s?.inFlight ?? 0,
        // Ready + in flight: the work a pool must hold — a scale signal for outside autoscalers
        // (KEDA's metrics-api scaler) that does not forget running jobs the way ready alone does.
        backlog: (s?.ready ?? 0) + (s?.inFlight ?? 0),
        byState: s?.byState ?? {},
        oldestReadyAt: s?.oldestReadyAt ?? null,
        workers,
        desired: desired[type]?.desired ?? 0,
        min: config.scaling.min,
        max: config.scaling.max,
        paused: paused.has(type),
      };
    });
  }

  /** Per type: the live workers, and as many as the autoscaler's last decision wants. */
  desired(): Record<string, { current: number; desired: number }> {
    const last = this.#o.lastDecisions();
    const out: Record<string, { current: number; desired: number }> = {};
    for (const type of this.#o.catalog().names()) {
      const current = this.#o.gateway
        .workers(type)
        .filter((w) => w.state !== 'draining' && w.state !== 'stopped').length;
      out[type] = { current, desired: last.get(type)?.inputs['desired'] ?? current };
    }
    return out;
  }

  /** The autoscaler's recorded decisions, newest first. */
  decisions(filter: { type?: string | undefined; limit: number }): Promise<ScalingDecision[]> {
    return this.#o.store.decisions({
      limit: filter.limit,
      ...(filter.type ? { type: filter.type } : {}),
    });
  }

  /** Workers' starts, drains and stops as recorded, newest first. */
  workerEvents(filter: { type?: string | undefined; limit: number }): Promise<WorkerEvent[]> {
    return this.#o.store.workerEvents({
      limit: filter.limit,
      ...(filter.type ? { type: filter.type } : {}),
    });
  }

  /** "Why am I waiting?" for a job not started yet (jobs/waiting.ts); null for any other. */
  async waiting(job: JobView): Promise<Waiting | null> {
    if (job.state !== 'queued' && job.state !== 'starting') return null;
    const o = this.#o;
    const now = o.clock.now();
    const capacity = o.capacity();
    return waiting({
      job,
      now,
      position: job.state === 'queued' ? await o.store.queuePosition(job, now) : 0,
      workers: o.gateway.workers(job.type),
      max: o.catalog().type(job.type)?.scaling.max ?? 0,
      room: o.room(job.type),
      global: capacity == null ? null : { capacity, used: o.gateway.workers().length },
      perMinute: o.throughput.perMinute(job.type),
      startingFor: o.gateway.pendingReason(job.id),
      runnable: o.runnable(job.type),
      hold: job.state === 'queued' ? await o.flowHold(job) : null,
    });
  }
}
