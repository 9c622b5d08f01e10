import type { ScheduleConfig } from '../../config/schema.ts';

/**
 * Role: cron schedules — those declared through the API (their definitions: create or replace,
 * get, list, delete) and the state of every schedule, whether declared there or in the config:
 * the operator's pause, the last tick accounted for, the last job fired, the next tick due. The
 * schedule runner (src/schedules/runner.ts) reads and advances the state; the schedule routes
 * manage the definitions. Names are the keys: a config schedule's state and an API schedule's
 * share one namespace.
 */
export interface ScheduleRecords {
  /** Creates or replaces the API-declared schedule `name`; its state, if any, is kept. */
  putSchedule(name: string, definition: ScheduleDefinition, now: number): Promise<StoredSchedule>;
  getSchedule(name: string): Promise<StoredSchedule | undefined>;
  /** The API-declared schedules, by name (byte order). */
  listSchedules(): Promise<StoredSchedule[]>;
  /** Deletes the API-declared schedule and the state of `name`; false when neither existed. */
  deleteSchedule(name: string): Promise<boolean>;

  /**
   * The state of `name`, created when absent (nothing fired, not paused by an operator, `since`
   * and `nextDue` as given). Atomic: concurrent callers all get the one record created first.
   */
  ensureScheduleState(name: string, since: number, nextDue: number | null): Promise<ScheduleState>;
  getScheduleState(name: string): Promise<ScheduleState | undefined>;
  /** Every schedule's state, by name (byte order). */
  listScheduleStates(): Promise<ScheduleState[]>;
  /**
   * The operator's pause: true or false overrides the definition's `paused`, null returns to it.
   * False when `name` has no state.
   */
  setSchedulePaused(name: string, paused: boolean | null): Promise<boolean>;
  /**
   * Compare-and-set: moves the last tick from `expectedLastTick` (null: none yet) to
   * `advance.lastTick`, only if it is still `expectedLastTick`. True for the one caller whose
   * expectation held; every other caller (another replica, a former leader) gets false and
   * changes nothing. With `jobId` the tick fired that job (`lastFired` becomes that tick and job);
   * without, the ticks were passed over and `lastFired` stays.
   */
  advanceSchedule(
    name: string,
    expectedLastTick: number | null,
    advance: { lastTick: number; jobId: string | null; nextDue: number | null },
  ): Promise<boolean>;
}

/** What a schedule is, as the config's `schedules.<name>` says it (src/config/schema.ts). */
export type ScheduleDefinition = ScheduleConfig;

export interface StoredSchedule {
  name: string;
  definition: ScheduleDefinition;
  createdAt: number;
  updatedAt: number;
}

export interface ScheduleState {
  name: string;
  /** When the state was created: ticks at or before it are never due. */
  since: number;
  /** The operator's pause: overrides the definition's `paused` when not null. */
  paused: boolean | null;
  /** The last tick accounted for (fired, or passed over by a policy); null: none yet. */
  lastTick: number | null;
  /** The newest tick that fired, and its job; null: none yet. */
  lastFired: { tick: number; jobId: string } | null;
  /** The next tick due, as of the last advance (or the creation); null: never again. */
  nextDue: number | null;
}
