import type { ScalingConfig } from '../config/schema.ts';
import type { TimedClock, Timer } from '../domain/clock.ts';
import type { GafferEvents, ScalerStage, ScalingDecision, WorkerInfo } from '../domain/events.ts';
import type { Job } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { QueueStats } from '../store/roles/job-listing.ts';
import { Activity, DesiredHistory } from './activity.ts';
import { leadMs, type DueSoon } from './anticipate.ts';
import { decideAll } from './decide.ts';
import type { Decision, FlowObservation, Observation } from './policy.ts';
import { historyKeepMs } from './rules.ts';
import { BurstLog, StartupDelays } from './warm-signals.ts';

/** Errors already reported as `scaler:error`, so one failure is counted once. */
const REPORTED = new WeakSet<object>();

/** What the loop needs from the rest of gaffer: observe and act, nothing else. */
export interface ScalingTarget {
  /** Job types with their scaling settings, read every tick (a config reload applies at once). */
  types(): {
    name: string;
    mode: 'pool' | 'per-job';
    concurrency: number;
    scaling: ScalingConfig;
  }[];
  queueStats(now: number): Promise<QueueStats[]>;
  workers(type: string): WorkerInfo[];
  /** Starts `count` workers (per-job mode: launches up to `count` jobs). */
  start(type: string, count: number): Promise<void>;
  retire(workerId: string): void;
  record(decision: ScalingDecision): Promise<void>;
  /** Workers of all types at once (`autoscaler.capacity`); absent or null: unlimited. */
  capacity?(): number | null | undefined;
  /** Workers of `type` the executor has room for (CPUs, allocatable); absent or null: no limit. */
  resourceLimit?(type: string): number | null;
  /** Each type's pause and rate limit, read every tick; absent, or a type missing: neither. */
  flow?(): Promise<ReadonlyMap<string, FlowObservation>>;
  /** Delayed jobs of `type` due in (now, upTo] (`JobListing.dueWithin`); absent: none known. */
  dueWithin?(type: string, now: number, upTo: number): Promise<DueSoon | null>;
  /** Jobs of `type` fell due: serve its workers waiting for work (the gateway's notify). */
  fellDue?(type: string): void;
}

/** Default shortest gap between two tick starts caused by pokes (see `ControlLoop.poke`). */
export const POKE_GAP_MS = 100;

/**
 * How long a poke at `now` waits: 0 when the last tick started at least `gapMs` ago (or never),
 * else the rest of the gap. Capped at `gapMs`, so a clock stepping back cannot stall the loop.
 */
export function pokeDelay(lastStartAt: number | null, now: number, gapMs: number): number {
  if (lastStartAt === null) return 0;
  return Math.min(gapMs, Math.max(0, lastStartAt + gapMs - now));
}

/**
 * The autoscaler: per type, observe → decide (pure) → act. Ticks on an interval and as soon as
 * new jobs arrive, so a type with no workers starts some without waiting a whole period.
 */
export class ControlLoop {
  readonly #target: ScalingTarget;
  readonly #clock: TimedClock;
  readonly #events: GafferEvents;
  readonly #log: Pick<Logger, 'error'>;
  readonly #intervalMs: number;
  readonly #gapMs: number;
  readonly #last = new Map<string, Decision>();
  /** Arrivals, run times and last ends per type, from the job events (the rate rule's inputs). */
  readonly activity = new Activity();
  readonly #history = new DesiredHistory();
  /** Bursts of arrivals and workers' start-up delays, per type: what warming ahead needs. */
  readonly bursts = new BurstLog();
  readonly startups = new StartupDelays();
  /** Per type, the timer that serves its waiting workers when its next delayed job falls due. */
  readonly #dueTimers = new Map<string, { at: number; timer: Timer }>();
  #timer: Timer | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  /** When the last tick started (by the injected clock), for the poke gap. */
  #lastStartAt: number | null = null;
  /** The deferred tick a poke inside the gap scheduled, if one is pending. */
  #deferred: Timer | null = null;
  /**
   * Until start() and after stop(), pokes are ignored: a replica that does not lead, or a gaffer
   * that is draining, never ticks because a worker exited or jobs arrived.
   */
  #stopped = true;

  constructor(options: {
    target: ScalingTarget;
    /** Reads the time and schedules the periodic and the deferred ticks. */
    clock: TimedClock;
    events: GafferEvents;
    intervalMs: number;
    log: Pick<Logger, 'error'>;
    /** Shortest gap between tick starts caused by pokes; default POKE_GAP_MS. */
    pokeGapMs?: number;
  }) {
    this.#target = options.target;
    this.#clock = options.clock;
    this.#events = options.events;
    this.#log = options.log;
    this.#intervalMs = options.intervalMs;
    this.#gapMs = options.pokeGapMs ?? POKE_GAP_MS;
    const now = () => this.#clock.now();
    this.#events.on('job:queued', ({ jobs }) => {
      const at = now();
      // A delayed job is no demand yet: it counts once due, as a ready job in the queue stats.
      for (const job of jobs) {
        this.activity.left(job.id);
        if (job.runAt > at) continue;
        this.activity.arrived(job.type, at);
        this.bursts.arrived(job.type, at);
      }
    });
    this.#events.on('job:started', ({ job }) =>
      this.activity.started(job.type, job.id, job.startedAt ?? now()),
    );
    // Back in the queue, not running: its age proves nothing any more.
    this.#events.on('job:expired', ({ job }) => this.activity.left(job.id));
    this.#events.on('job:redelivered', ({ job }) => this.activity.left(job.id));
    const ended = ({ job }: { job: Job }) => {
      this.activity.left(job.id);
      const end = job.finishedAt ?? now();
      const run = job.startedAt === null ? null : end - job.startedAt;
      this.activity.finished(job.type, end, run);
    };
    this.#events.on('job:succeeded', ended);
    this.#events.on('job:failed', ended);
    this.#events.on('job:retrying', ended);
    this.#events.on('job:cancelled', ended);
  }

  start(): void {
    this.#stopped = false;
    this.#timer = this.#clock.every(this.#intervalMs, () => this.poke());
    this.poke();
  }

  /**
   * Asks for a tick soon. Coalesced: ticks never overlap, a poke during one causes exactly one
   * more, and ticks caused by pokes start at least the poke gap apart — the first poke after a
   * quiet gap ticks at once (a type with no worker gets one without waiting), a burst of pokes
   * (one per committed submission) yields at most one more tick at the end of the gap. Each tick
   * reads the queue stats, so without this a stream of submissions became a stream of ticks.
   */
  poke(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    const wait = pokeDelay(this.#lastStartAt, this.#clock.now(), this.#gapMs);
    if (wait > 0) {
      this.#deferred ??= this.#clock.after(wait, () => {
        this.#deferred = null;
        this.#run();
      });
      return;
    }
    this.#run();
  }

  /** Starts a tick now (or one more after the running one); clears a pending deferred tick. */
  #run(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#deferred?.cancel();
    this.#deferred = null;
    this.#lastStartAt = this.#clock.now();
    this.#running = this.tick()
      .catch((err) => {
        this.#log.error({ err }, 'autoscaler tick failed');
        this.#failed('tick', null, err);
      })
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.poke();
        }
      });
  }

  /** Resolves when no tick is running (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  stop(): void {
    this.#stopped = true;
    this.#deferred?.cancel();
    this.#deferred = null;
    this.#timer?.cancel();
    this.#timer = null;
    for (const { timer } of this.#dueTimers.values()) timer.cancel();
    this.#dueTimers.clear();
  }

  /** The latest decision per type, for `desired` in the API. */
  lastDecisions(): Map<string, Decision> {
    return new Map(this.#last);
  }

  async tick(): Promise<void> {
    const now = this.#clock.now();
    const stats = new Map((await this.#target.queueStats(now)).map((s) => [s.type, s]));
    const flow = (await this.#target.flow?.()) ?? new Map<string, FlowObservation>();
    const types = this.#target.types();
    const due = await this.#dueSoon(
      types.map((t) => t.name).filter((name) => (stats.get(name)?.delayed ?? 0) > 0),
      now,
    );
    const items = types.map((type) => {
      const s = stats.get(type.name);
      const workers = this.#target.workers(type.name);
      this.startups.observe(type.name, workers, now);
      const obs: Observation = {
        type: type.name,
        mode: type.mode,
        now,
        ready: s?.ready ?? 0,
        inFlight: s?.inFlight ?? 0,
        workers,
        concurrency: type.concurrency,
        arrivalRate: this.activity.rate(type.name, now),
        runP50Ms: this.activity.runP50(type.name),
        runMeanMs: this.activity.runMean(type.name),
        inFlightAgeP50Ms: this.activity.inFlightAgeP50(type.name, now),
        lastFinishedAt: this.activity.lastFinishedAt(type.name),
        history: this.#history.get(type.name),
        resourceLimit: this.#target.resourceLimit?.(type.name) ?? null,
        flow: flow.get(type.name) ?? null,
        startupMs: this.startups.p90(type.name),
        tickMs: this.#intervalMs,
        dueSoon: due.get(type.name) ?? null,
        bursts: this.bursts.bursts(type.name, now),
      };
      return { obs, scaling: type.scaling };
    });
    const decisions = decideAll(items, this.#target.capacity?.());
    for (const [i, decision] of decisions.entries()) {
      const keepMs = historyKeepMs(items[i]!.scaling);
      const desired = decision.inputs.desired ?? decision.to;
      this.#history.push(decision.type, now, desired, keepMs, decision.inputs.needed);
      this.#last.set(decision.type, decision);
      if (decision.start > 0 || decision.retire.length > 0) await this.#act(decision, now);
    }
  }

  /** Per type with delayed jobs, those falling due within its lead (start-up + one tick). */
  async #dueSoon(types: readonly string[], now: number): Promise<Map<string, DueSoon>> {
    const out = new Map<string, DueSoon>();
    const query = this.#target.dueWithin?.bind(this.#target);
    if (!query) return out;
    for (const type of types) {
      const upTo = now + leadMs(this.startups.p90(type), this.#intervalMs);
      const due = await query(type, now, upTo);
      if (due && due.count > 0) {
        out.set(type, due);
        this.#wakeAt(type, due.firstAt, now);
      }
    }
    return out;
  }

  /**
   * Serves the type's waiting workers when its first job within the lead falls due: a worker warmed
   * for it then takes it at once, not at the next lease sweep's notify. One timer per type, the
   * earliest kept.
   */
  #wakeAt(type: string, at: number, now: number): void {
    const fellDue = this.#target.fellDue?.bind(this.#target);
    if (!fellDue) return;
    const pending = this.#dueTimers.get(type);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.#clock.after(Math.max(0, at - now) + 1, () => {
      this.#dueTimers.delete(type);
      if (!this.#stopped) fellDue(type);
    });
    this.#dueTimers.set(type, { at, timer });
  }

  async #act(d: Decision, now: number): Promise<void> {
    const record: ScalingDecision = {
      type: d.type,
      at: now,
      from: d.from,
      to: d.to,
      retire: d.retire,
      reason: d.reason,
      inputs: d.inputs,
    };
    await this.#target.record(record);
    this.#events.emit('scaler:decision', { decision: record });
    for (const id of d.retire) {
      try {
        this.#target.retire(id);
      } catch (err) {
        this.#failed('stop', d.type, err);
        throw err;
      }
    }
    if (d.start > 0) {
      await this.#target.start(d.type, d.start).catch((err: unknown) => {
        this.#failed('start', d.type, err);
        throw err;
      });
    }
  }

  /**
   * Reports a failure to act (metrics count them). A start or stop that failed is reported with
   * its stage and marked, so the tick it aborts is not counted a second time.
   */
  #failed(stage: ScalerStage, type: string | null, err: unknown): void {
    if (typeof err === 'object' && err !== null) {
      if (REPORTED.has(err)) return;
      REPORTED.add(err);
    }
    this.#events.emit('scaler:error', { stage, type, message: String(err) });
  }
}
