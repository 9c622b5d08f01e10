import { Ajv, type ErrorObject } from 'ajv';
import { scheduleProblems } from '../config/schedule-problems.ts';
import { ScheduleSchema, type ScheduleConfig } from '../config/schema.ts';
import type { Clock } from '../domain/clock.ts';
import type { Job } from '../domain/job.ts';
import { GafferError } from '../errors.ts';
import type { Catalog } from '../jobs/catalog.ts';
import { ANONYMOUS, type JobService, type Submitter } from '../jobs/service.ts';
import type { AuditLog } from '../store/roles/audit-log.ts';
import type { JobRecords } from '../store/roles/job-records.ts';
import type {
  ScheduleRecords,
  ScheduleState,
  StoredSchedule,
} from '../store/roles/schedule-records.ts';
import { parseCron } from './cron.ts';
import { SCHEDULER } from './runner.ts';

/** Where a schedule is declared: the config (read-only here) or the API (stored). */
export type ScheduleSource = 'config' | 'api';

/** A schedule as the front ends list it. */
export interface ScheduleView {
  name: string;
  source: ScheduleSource;
  definition: ScheduleConfig;
  /** Whether its ticks pass without firing: the operator's pause, else the definition's. */
  paused: boolean;
  /** The next tick after now (fired unless paused); null: never again, or the cron is unreadable. */
  nextRunAt: number | null;
  /** The newest tick that fired and its job; null: none yet. */
  lastRun: { at: number; jobId: string } | null;
  /** When the API schedule was created and last replaced; null for a config schedule. */
  createdAt: number | null;
  updatedAt: number | null;
}

/** One schedule with its recent jobs. */
export interface ScheduleDetail extends ScheduleView {
  /**
   * The jobs of its recent runs, newest first. The state keeps only the last fired tick's job (a
   * listing by idempotency-key prefix would need a store query the stores do not have), so this is
   * that job, when the store still holds it.
   */
  recentJobs: Job[];
}

export interface ScheduleServiceOptions {
  store: Pick<
    ScheduleRecords,
    | 'putSchedule'
    | 'getSchedule'
    | 'listSchedules'
    | 'deleteSchedule'
    | 'ensureScheduleState'
    | 'getScheduleState'
    | 'listScheduleStates'
    | 'setSchedulePaused'
  > &
    Pick<JobRecords, 'get'> &
    Pick<AuditLog, 'appendAudit'>;
  jobs: Pick<JobService, 'submit'>;
  clock: Clock;
  /** The config's schedules in force (a reload replaces them). */
  configured: () => Readonly<Record<string, ScheduleConfig>>;
  /** The catalog in force: the types a schedule may submit. */
  catalog: () => Pick<Catalog, 'names'>;
}

/** The idempotency key of a manual trigger: its own scheme, never a tick's. */
export function manualKey(name: string, at: number): string {
  return `schedule:${name}:manual:${new Date(at).toISOString()}`;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateDefinition = ajv.compile(ScheduleSchema);

/**
 * Cron schedules for the front ends (HTTP, CLI, gRPC, the library, the dashboard): list and read
 * the config's and the API's, create, replace and delete the API's, pause and resume any
 * (durable: the store's state, so the runner on whichever replica leads honours it), and trigger
 * one job now. A config schedule's name wins over an API one's, as in the runner; the API cannot
 * replace or delete it (GAFFER_SCHEDULE_CONFIGURED). A submitter with a type scope sees and acts
 * on the schedules submitting its types only: any other is answered as unknown. Every change is
 * audited (`schedule.put`, `.delete`, `.pause`, `.resume`, `.trigger`), as the type pause is.
 */
export class ScheduleService {
  readonly #o: ScheduleServiceOptions;

  constructor(options: ScheduleServiceOptions) {
    this.#o = options;
  }

  /** Every schedule the submitter may see, by name. */
  async list(by: Submitter = ANONYMOUS): Promise<ScheduleView[]> {
    const all = await this.#definitions();
    const states = new Map((await this.#o.store.listScheduleStates()).map((s) => [s.name, s]));
    return [...all.values()]
      .filter((d) => inScope(d.definition, by))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((d) => this.#view(d, states.get(d.name)));
  }

  /** One schedule with its recent jobs; GAFFER_SCHEDULE_NOT_FOUND when unknown or out of scope. */
  async get(name: string, by: Submitter = ANONYMOUS): Promise<ScheduleDetail> {
    const found = await this.#find(name, by);
    const view = this.#view(found, await this.#o.store.getScheduleState(name));
    const last = view.lastRun ? await this.#o.store.get(view.lastRun.jobId) : undefined;
    return { ...view, recentJobs: last ? [last] : [] };
  }

  /**
   * Creates or replaces the API schedule `name`, checked as the config's are (schema, name, cron,
   * zone, a known type). Its state (last run, an operator's pause) is kept across a replace; a new
   * schedule's starts now, so every tick after this call fires however late the runner's next pass.
   */
  async put(
    name: string,
    definition: unknown,
    by: Submitter = ANONYMOUS,
  ): Promise<{ schedule: ScheduleView; created: boolean }> {
    if (Object.hasOwn(this.#o.configured(), name)) throw configured(name);
    const checked = this.#check(name, definition);
    const before = await this.#o.store.getSchedule(name);
    if (before) this.#scope(before.definition, by);
    this.#scope(checked, by);
    const now = this.#o.clock.now();
    const stored = await this.#o.store.putSchedule(name, checked, now);
    await this.#o.store.ensureScheduleState(name, now, nextRun(checked, now));
    await this.#audit(by, 'schedule.put', { schedule: name, type: checked.submit.type });
    const view = this.#view(
      { ...stored, source: 'api' },
      await this.#o.store.getScheduleState(name),
    );
    return { schedule: view, created: before === undefined };
  }

  /** Deletes the API schedule `name` and its state. */
  async delete(name: string, by: Submitter = ANONYMOUS): Promise<void> {
    if (Object.hasOwn(this.#o.configured(), name)) throw configured(name);
    const found = await this.#find(name, by);
    await this.#o.store.deleteSchedule(name);
    await this.#audit(by, 'schedule.delete', {
      schedule: name,
      type: found.definition.submit.type,
    });
  }

  /** Pauses `name`: its ticks pass without firing until resumed (durable, whatever declared it). */
  pause(name: string, by: Submitter = ANONYMOUS): Promise<ScheduleView> {
    return this.#setPaused(name, true, by);
  }

  /** Resumes `name`: the next tick fires; ticks that passed while paused are not caught up. */
  resume(name: string, by: Submitter = ANONYMOUS): Promise<ScheduleView> {
    return this.#setPaused(name, false, by);
  }

  /**
   * Submits the schedule's job now, outside the cron: key `schedule:<name>:manual:<ISO time>` from
   * the `scheduler` submitter. The cron state (last tick, next due) does not move. Fires while
   * paused too: a trigger is an operator's explicit ask.
   */
  async trigger(name: string, by: Submitter = ANONYMOUS): Promise<Job> {
    const found = await this.#find(name, by);
    const now = this.#o.clock.now();
    const submission = { ...found.definition.submit, idempotencyKey: manualKey(name, now) };
    const { job } = await this.#o.jobs.submit(submission, SCHEDULER);
    await this.#audit(by, 'schedule.trigger', {
      schedule: name,
      type: job.type,
      jobId: job.id,
    });
    return job;
  }

  async #setPaused(name: string, paused: boolean, by: Submitter): Promise<ScheduleView> {
    const found = await this.#find(name, by);
    const now = this.#o.clock.now();
    const next = nextRun(found.definition, now);
    // The runner creates a state on its first pass; one paused before that pass needs it now.
    await this.#o.store.ensureScheduleState(name, now, next);
    await this.#o.store.setSchedulePaused(name, paused);
    await this.#audit(by, paused ? 'schedule.pause' : 'schedule.resume', {
      schedule: name,
      type: found.definition.submit.type,
    });
    return this.#view(found, await this.#o.store.getScheduleState(name));
  }

  async #definitions(): Promise<Map<string, Declared>> {
    const all = new Map<string, Declared>(
      (await this.#o.store.listSchedules()).map((s) => [s.name, { ...s, source: 'api' }]),
    );
    for (const [name, definition] of Object.entries(this.#o.configured())) {
      all.set(name, { name, definition, source: 'config', createdAt: null, updatedAt: null });
    }
    return all;
  }

  async #find(name: string, by: Submitter): Promise<Declared> {
    const config = this.#o.configured()[name];
    const found: Declared | undefined = config
      ? { name, definition: config, source: 'config', createdAt: null, updatedAt: null }
      : await this.#o.store.getSchedule(name).then((s) => s && { ...s, source: 'api' as const });
    if (!found || !inScope(found.definition, by)) {
      throw new GafferError('GAFFER_SCHEDULE_NOT_FOUND', JSON.stringify(name));
    }
    return found;
  }

  #check(name: string, definition: unknown): ScheduleConfig {
    const copy = structuredClone(definition);
    const problems = validateDefinition(copy)
      ? []
      : (validateDefinition.errors ?? []).map((e: ErrorObject) => ({
          path: `/schedules/${name}${e.instancePath}`,
          message: e.message ?? 'is invalid',
        }));
    const types = Object.fromEntries(
      this.#o
        .catalog()
        .names()
        .map((t) => [t, true]),
    );
    problems.push(...scheduleProblems({ [name]: copy }, types));
    if (problems.length > 0) {
      const text = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
      throw new GafferError('GAFFER_SCHEDULE_INVALID', text, { details: { problems } });
    }
    return copy as ScheduleConfig;
  }

  #scope(definition: ScheduleConfig, by: Submitter): void {
    if (!inScope(definition, by)) {
      throw new GafferError(
        'GAFFER_FORBIDDEN',
        `this key may not schedule jobs of type ${definition.submit.type}`,
      );
    }
  }

  #view(d: Declared, state: ScheduleState | undefined): ScheduleView {
    return {
      name: d.name,
      source: d.source,
      definition: d.definition,
      paused: state?.paused ?? d.definition.paused,
      nextRunAt: nextRun(d.definition, this.#o.clock.now()),
      lastRun: state?.lastFired ? { at: state.lastFired.tick, jobId: state.lastFired.jobId } : null,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
    };
  }

  async #audit(by: Submitter, action: string, details: Record<string, unknown>): Promise<void> {
    await this.#o.store.appendAudit({
      at: this.#o.clock.now(),
      actor: by.id,
      action,
      target: null,
      outcome: 'ok',
      details: { ...details, ...(by.via ? { api: by.via } : {}) },
    });
  }
}

type Declared = Pick<StoredSchedule, 'name' | 'definition'> & {
  source: ScheduleSource;
  createdAt: number | null;
  updatedAt: number | null;
};

function inScope(definition: ScheduleConfig, by: Submitter): boolean {
  return !by.allows || by.allows(definition.submit.type);
}

function nextRun(definition: ScheduleConfig, now: number): number | null {
  try {
    return parseCron(definition.cron, definition.timezone).next(now);
  } catch {
    return null; // the runner logs an unreadable expression; a listing shows no next run
  }
}

function configured(name: string): GafferError {
  return new GafferError('GAFFER_SCHEDULE_CONFIGURED', JSON.stringify(name));
}
