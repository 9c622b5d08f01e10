import type { ScheduleConfig } from '../config/schema.ts';
import type { TimedClock, Timer } from '../domain/clock.ts';
import { isTerminal } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import { GafferError } from '../errors.ts';
import type { JobService, Submitter } from '../jobs/service.ts';
import type { JobRecords } from '../store/roles/job-records.ts';
import type { ScheduleRecords, ScheduleState } from '../store/roles/schedule-records.ts';
import { parseCron, type CronSchedule } from './cron.ts';
import { ticksToFire, type TickReason } from './ticks.ts';

/** Who submits every scheduled job: the idempotency keys are scoped to it. */
export const SCHEDULER: Submitter = { id: 'scheduler', via: 'schedule' };

/** The idempotency key of a schedule's tick: the same on every replica, for every attempt. */
export function tickKey(name: string, tick: number): string {
  return `schedule:${name}:${new Date(tick).toISOString()}`;
}

export interface ScheduleRunnerOptions {
  store: Pick<
    ScheduleRecords,
    'listSchedules' | 'listScheduleStates' | 'ensureScheduleState' | 'advanceSchedule'
  > &
    Pick<JobRecords, 'get'>;
  jobs: Pick<JobService, 'submit'>;
  clock: TimedClock;
  /** The config's schedules in force: read on every pass, so a reload applies at the next. */
  configured: () => Readonly<Record<string, ScheduleConfig>>;
  log: Pick<Logger, 'warn' | 'error'>;
  /** How often a leading runner looks for due ticks (default 1 s). */
  intervalMs?: number;
  /** Under `missed: skip`, how late the latest due tick may still fire (default 60 s). */
  graceMs?: number;
}

/** What one pass did with a schedule (for tests and the log). */
export interface PassOutcome {
  name: string;
  reason: TickReason;
  /** The ticks this runner fired and recorded, with their jobs. */
  fired: { tick: number; jobId: string }[];
  /** Why it stopped short: another runner advanced the state first, or a submit failed. */
  stopped?: 'advanced_elsewhere' | 'submit_failed' | 'bad_expression';
}

const DEFAULT_INTERVAL_MS = 1000;
const DEFAULT_GRACE_MS = 60_000;

/**
 * Fires cron schedules (the config's and the API's) while this gaffer leads. Each pass, for each
 * schedule: decides the ticks to fire (./ticks.ts), submits each through the job service with the
 * tick's idempotency key from the `scheduler` submitter, then advances the schedule's state by
 * compare-and-set from the last tick it read. Exactly once per tick:
 * - a tick's job is created once, however many runners submit it: the key is unique per (key,
 *   type, submitter) in the store, so a second submit returns the first job;
 * - the state advances once: of the runners that read the same last tick, one CAS wins; the others
 *   stop, and their next pass starts from the state the winner wrote;
 * - a failed submit, or a crash between submit and advance, leaves the state where it was: the
 *   next pass (here or on the next leader) submits the tick again and gets the same job.
 * A config schedule and an API one of the same name: the config's is the one run.
 */
export class ScheduleRunner {
  readonly #o: ScheduleRunnerOptions;
  readonly #crons = new Map<string, CronSchedule>();
  /** The last failure logged per schedule, so a failing schedule is not logged every pass. */
  readonly #failing = new Map<string, string>();
  #timer: Timer | null = null;
  #pass: Promise<PassOutcome[]> | null = null;

  constructor(options: ScheduleRunnerOptions) {
    this.#o = options;
  }

  /** This gaffer leads: passes run every `intervalMs` until `follow`. Idempotent. */
  lead(): void {
    if (this.#timer) return;
    this.#timer = this.#o.clock.every(this.#o.intervalMs ?? DEFAULT_INTERVAL_MS, () => {
      void this.pass().catch((err: unknown) => {
        this.#o.log.error({ error: String(err) }, 'schedules: a pass failed');
      });
    });
  }

  /** Another gaffer leads (or this one stops): no further passes. A pass under way finishes. */
  follow(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** Follows, and resolves once a pass under way has finished (before the store closes). */
  async stop(): Promise<void> {
    this.follow();
    await this.#pass?.catch(() => {});
  }

  get leading(): boolean {
    return this.#timer !== null;
  }

  /** One pass over every schedule; a pass asked for while one runs gets that one. */
  pass(): Promise<PassOutcome[]> {
    this.#pass ??= this.#run().finally(() => {
      this.#pass = null;
    });
    return this.#pass;
  }

  async #run(): Promise<PassOutcome[]> {
    const schedules = await this.#definitions();
    const states = new Map((await this.#o.store.listScheduleStates()).map((s) => [s.name, s]));
    const outcomes: PassOutcome[] = [];
    for (const [name, definition] of schedules) {
      outcomes.push(await this.#one(name, definition, states.get(name)));
    }
    return outcomes;
  }

  /** The API's schedules, then the config's over them (the config wins a name). */
  async #definitions(): Promise<Map<string, ScheduleConfig>> {
    const stored = await this.#o.store.listSchedules();
    const all = new Map(stored.map((s) => [s.name, s.definition]));
    for (const [name, definition] of Object.entries(this.#o.configured())) {
      all.set(name, definition);
    }
    return all;
  }

  async #one(
    name: string,
    definition: ScheduleConfig,
    known: ScheduleState | undefined,
  ): Promise<PassOutcome> {
    const now = this.#o.clock.now();
    const cron = this.#cron(name, definition);
    if (!cron) return { name, reason: 'not_due', fired: [], stopped: 'bad_expression' };
    const state = known ?? (await this.#o.store.ensureScheduleState(name, now, cron.next(now)));
    const decision = ticksToFire({
      cron,
      lastTick: state.lastTick,
      since: state.since,
      now,
      missed: definition.missed,
      graceMs: this.#o.graceMs ?? DEFAULT_GRACE_MS,
      overlap: definition.overlap,
      running: definition.overlap === 'skip' && (await this.#unfinished(state)),
      paused: state.paused ?? definition.paused,
    });
    const outcome: PassOutcome = { name, reason: decision.reason, fired: [] };
    if (decision.advanceTo === null) return outcome;
    let expected = state.lastTick;
    const nextDue = (tick: number) => cron.next(Math.max(tick, now));
    for (const tick of decision.fire) {
      const jobId = await this.#submit(name, definition, tick);
      if (jobId === null) return { ...outcome, stopped: 'submit_failed' };
      const advance = { lastTick: tick, jobId, nextDue: nextDue(tick) };
      if (!(await this.#o.store.advanceSchedule(name, expected, advance))) {
        return { ...outcome, stopped: 'advanced_elsewhere' };
      }
      outcome.fired.push({ tick, jobId });
      expected = tick;
    }
    if (decision.fire.length === 0) {
      const advance = { lastTick: decision.advanceTo, jobId: null, nextDue: nextDue(now) };
      if (!(await this.#o.store.advanceSchedule(name, expected, advance))) {
        return { ...outcome, stopped: 'advanced_elsewhere' };
      }
    }
    return outcome;
  }

  /** The job of the tick, created or found by its key; null (logged) when the submit failed. */
  async #submit(name: string, definition: ScheduleConfig, tick: number): Promise<string | null> {
    const submission = { ...definition.submit, idempotencyKey: tickKey(name, tick) };
    try {
      const { job } = await this.#o.jobs.submit(submission, SCHEDULER);
      this.#failing.delete(name);
      return job.id;
    } catch (err) {
      // The tick fired already, from a definition since changed: that job is the tick's.
      const held = conflictingJob(err);
      if (held) return held;
      const message = String(err);
      if (this.#failing.get(name) !== message) {
        this.#failing.set(name, message);
        this.#o.log.warn(
          { schedule: name, tick: new Date(tick).toISOString(), error: message },
          'schedules: a tick could not be submitted; trying again each pass',
        );
      }
      return null;
    }
  }

  /** Whether the last fired tick's job is still queued or in flight (a purged one is not). */
  async #unfinished(state: ScheduleState): Promise<boolean> {
    if (!state.lastFired) return false;
    const job = await this.#o.store.get(state.lastFired.jobId);
    return job !== undefined && !isTerminal(job.state);
  }

  /** The parsed expression, cached by text and zone; null (logged once) when it cannot be read. */
  #cron(name: string, definition: ScheduleConfig): CronSchedule | null {
    const key = `${definition.cron}\u0000${definition.timezone ?? ''}`;
    const cached = this.#crons.get(key);
    if (cached) return cached;
    try {
      const cron = parseCron(definition.cron, definition.timezone);
      this.#crons.set(key, cron);
      return cron;
    } catch (err) {
      const message = String(err);
      if (this.#failing.get(name) !== message) {
        this.#failing.set(name, message);
        this.#o.log.error({ schedule: name, error: message }, 'schedules: cannot read the cron');
      }
      return null;
    }
  }
}

function conflictingJob(err: unknown): string | null {
  if (!(err instanceof GafferError) || err.code !== 'GAFFER_IDEMPOTENCY_CONFLICT') return null;
  const jobId = (err.details as { jobId?: unknown } | undefined)?.jobId;
  return typeof jobId === 'string' ? jobId : null;
}
