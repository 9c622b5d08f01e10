import type { Clock } from '../domain/clock.ts';
import type { GafferEvents, RedeliveryCause } from '../domain/events.ts';
import type { Job, JobError, JobState, NewJob, Outcome } from '../domain/job.ts';
import { isTerminal } from '../domain/job.ts';
import { GafferError } from '../errors.ts';
import type { AuditLog } from '../store/roles/audit-log.ts';
import type { DeadLetterWrites } from '../store/roles/dead-letter-writes.ts';
import type { JobFilter, JobListing, JobPage } from '../store/roles/job-listing.ts';
import type { ClaimOutcome, FinishUpdate, JobRecords } from '../store/roles/job-records.ts';
import type { PausedType, TypeControls } from '../store/roles/type-controls.ts';
import { holdOf, keyOf, type FlowLimits, type Hold } from '../domain/flow.ts';
import type { LogLine, RunHistory } from '../store/roles/run-history.ts';
import type { AttemptRecord } from '../store/attempts.ts';
import type { Logger } from '../domain/logger.ts';
import { unknownType, type Catalog } from './catalog.ts';
import { isDeepStrictEqual } from 'node:util';
import { adhocPayload, isAdhocType } from '../worker/adhoc.ts';
import { GroupCommit } from './group-commit.ts';
import { prepareJob, type Submission } from './prepare.ts';
import { DeadLetterQueue } from './dead-letters.ts';
import { capResult } from './retention.ts';
import { afterFailure, isRetryable } from './retry.ts';
import { boundedFailure, delayProblem, snoozeError } from './delays.ts';

/** Jobs one sweep expires at most; the rest wait for the next sweep (still unclaimable). */
/** A listing's filter: a stored state, or `delayed` (queued, runAt still ahead). */
export type ListFilter = Omit<JobFilter, 'state'> & { state?: JobState | 'delayed' };

export const EXPIRE_PER_SWEEP = 10_000;

export interface JobServiceOptions {
  /** The store roles the service uses (the dead-letter queue's included). */
  store: JobRecords &
    Pick<JobListing, 'list'> &
    RunHistory &
    DeadLetterWrites &
    Pick<AuditLog, 'appendAudit'> &
    TypeControls;
  clock: Clock;
  events: GafferEvents;
  /** The catalog in force; read on every call so a config reload takes effect at once. */
  catalog: () => Catalog;
  leaseTtlMs: number;
  /**
   * Broker mode: hands committed jobs to the broker; resolves once the broker confirmed them.
   * Absent on the embedded default, where the store is the queue.
   */
  publish?: (jobs: readonly Job[]) => Promise<void>;
  /** Largest result kept, as JSON bytes (`retention.resultBytes`); absent: no limit. */
  resultBytes?: () => number | undefined;
  log: Pick<Logger, 'error'>;
}

export interface RejectedSubmission {
  index: number;
  code: string;
  message: string;
}

/**
 * Every job state change goes through here: submission (with group commit), claims and
 * completions from workers (lease-fenced), cancel, retry, and recovery of lost leases.
 * The API, the CLI and the worker gateway call this, never the store directly.
 */
export class JobService {
  readonly #o: JobServiceOptions;
  readonly #inserts: GroupCommit<NewJob, Job>;
  readonly #finishes: GroupCommit<FinishUpdate, Job | null>;
  /** Broker mode: publishes of one turn go out as one confirmed batch (one round trip). */
  readonly #publishes: GroupCommit<Job, void> | null;
  /** Inspect, edit and replay of jobs that ended in the dead-letter queue. */
  readonly deadLetters: DeadLetterQueue;

  constructor(options: JobServiceOptions) {
    this.#o = options;
    // A job the store refuses (a value it cannot keep) fails only its own caller.
    this.#inserts = new GroupCommit((jobs) => options.store.insert(jobs), { isolate: true });
    this.#finishes = new GroupCommit(async (updates) => {
      const changed = new Map((await options.store.finish(updates)).map((j) => [j.id, j]));
      return updates.map((u) => changed.get(u.id) ?? null);
    });
    const publish = options.publish;
    this.#publishes = publish
      ? new GroupCommit<Job, void>(
          async (jobs) => {
            await publish(jobs);
            return jobs.map(() => undefined);
          },
          // Its callers are the continuations of one insert group: they resume together.
          { gather: 'microtask' },
        )
      : null;
    this.deadLetters = new DeadLetterQueue({
      store: options.store,
      clock: options.clock,
      catalog: options.catalog,
      requeued: (jobs) => this.#requeued(jobs),
    });
  }

  /** The catalog in force now (a reload replaces it). */
  get catalog(): Catalog {
    return this.#o.catalog();
  }

  /**
   * Resolves once the job is committed; `created` is false for an idempotency key `by` already
   * used for this type with an equal submission (the job is then the one submitted first). The
   * same key with a different submission is GAFFER_IDEMPOTENCY_CONFLICT; another submitter's or
   * another type's key is a different key. A submission's `dedup` mode changes what a held key
   * yields (src/domain/dedup.ts): the live job, a new job, or the holder debounced. `by.allows` (the caller's type scope) is checked once
   * routing has chosen the type: GAFFER_FORBIDDEN.
   */
  async submit(
    sub: Submission,
    by: Submitter = ANONYMOUS,
  ): Promise<{ job: Job; created: boolean }> {
    const prepared = this.#prepare(sub, by, this.#o.catalog(), this.#o.clock.now(), null);
    const [job] = await this.#insert([prepared]);
    if (!job) throw new GafferError('GAFFER_INTERNAL', 'insert returned nothing');
    const created = job.id === prepared.id;
    if (!created && !prepared.dedup) sameSubmission(job, prepared);
    if (created) await this.#auditAdhoc([job], by);
    return { job, created };
  }

  /**
   * Validates every item; commits the valid ones together; reports the rest by index (an item
   * whose type `by.allows` refuses, with GAFFER_FORBIDDEN, and an item whose idempotency key holds
   * a different submission, with GAFFER_IDEMPOTENCY_CONFLICT, like any invalid item).
   */
  async submitMany(
    subs: readonly Submission[],
    batchId: string | null = null,
    firstIndex = 0,
    by: Submitter = ANONYMOUS,
  ): Promise<{ accepted: Job[]; rejected: RejectedSubmission[] }> {
    const catalog = this.#o.catalog();
    const now = this.#o.clock.now();
    const prepared: NewJob[] = [];
    const indexOf: number[] = [];
    const rejected: RejectedSubmission[] = [];
    const reject = (i: number, err: unknown) => {
      if (!(err instanceof GafferError)) throw err;
      rejected.push({ index: firstIndex + i, code: err.code, message: err.message });
    };
    subs.forEach((sub, i) => {
      try {
        prepared.push(this.#prepare(sub, by, catalog, now, batchId));
        indexOf.push(i);
      } catch (err) {
        reject(i, err);
      }
    });
    const inserted = prepared.length ? await this.#insert(prepared) : [];
    const accepted: Job[] = [];
    const fresh: Job[] = [];
    inserted.forEach((job, at) => {
      const mine = prepared[at]!;
      if (job.id === mine.id) {
        fresh.push(job);
        accepted.push(job);
        return;
      }
      try {
        // With a dedup mode the store decided what the held key yields (src/domain/dedup.ts).
        if (!mine.dedup) sameSubmission(job, mine);
        accepted.push(job);
      } catch (err) {
        reject(indexOf[at]!, err);
      }
    });
    rejected.sort((a, b) => a.index - b.index);
    await this.#auditAdhoc(fresh, by);
    return { accepted, rejected };
  }

  #prepare(
    sub: Submission,
    by: Submitter,
    catalog: Catalog,
    now: number,
    batchId: string | null,
  ): NewJob {
    const job = prepareJob(sub, catalog, now, batchId);
    outOfScope(job, by.allows);
    job.submittedBy = by.id;
    return job;
  }

  /**
   * Every ad-hoc job created is in the audit log as `job.run`, whatever the route it came by
   * (POST /v1/run, /v1/jobs, a batch, an upload, gRPC, the library): a command on gaffer's machine
   * or cluster. Its command, image and the names of its environment variables — never their
   * values, which may hold secrets. Written before the submitter is answered.
   */
  async #auditAdhoc(jobs: readonly Job[], by: Submitter): Promise<void> {
    const catalog = this.#o.catalog();
    for (const job of jobs) {
      const type = catalog.type(job.type);
      if (!type || !isAdhocType(type)) continue;
      const { cmd, image, env } = adhocPayload(job.payload);
      await this.#o.store.appendAudit({
        at: this.#o.clock.now(),
        actor: by.id,
        action: 'job.run',
        target: job.id,
        outcome: 'ok',
        details: {
          type: job.type,
          cmd,
          image: image ?? type.worker.image ?? null,
          env: Object.keys(env ?? {}),
          ...(job.batchId ? { batchId: job.batchId } : {}),
          ...(by.via ? { api: by.via } : {}),
        },
      });
    }
  }

  async #insert(jobs: NewJob[]): Promise<Job[]> {
    let inserted: Job[];
    try {
      inserted = await this.#inserts.add(jobs);
    } catch (err) {
      // Nothing was committed: the caller must not get a 2xx (invariant 3). A value JavaScript
      // could not serialize (a library payload's toJSON threw) is this caller's to fix: a 400;
      // the group it came in was retried caller by caller, so no neighbour failed with it.
      if (err instanceof TypeError || err instanceof RangeError) {
        throw new GafferError('GAFFER_BAD_REQUEST', `the job cannot be stored: ${err.message}`, {
          cause: err,
        });
      }
      const code = diskFull(err) ? 'GAFFER_STORE_FULL' : 'GAFFER_UNAVAILABLE';
      throw new GafferError(code, (err as Error).message, { cause: err });
    }
    await this.#publishOrUndo(inserted.filter((job, i) => job.id === jobs[i]!.id));
    this.#o.events.emit('job:queued', { jobs: inserted });
    return inserted;
  }

  /**
   * No 2xx before the broker confirmed (invariant 3): if the publish fails, the jobs just
   * committed are removed again and the caller answers 503 — nothing is half accepted.
   */
  async #publishOrUndo(fresh: Job[]): Promise<void> {
    if (!this.#publishes || fresh.length === 0) return;
    try {
      // A failed batch fails every caller in it; each then undoes only its own jobs.
      await this.#publishes.add(fresh);
    } catch (err) {
      await this.#o.store.deleteQueued(fresh.map((j) => j.id));
      throw new GafferError(
        'GAFFER_UNAVAILABLE',
        `the broker did not confirm: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async get(id: string): Promise<Job> {
    const job = await this.#o.store.get(id);
    if (!job) throw new GafferError('GAFFER_JOB_NOT_FOUND', id);
    return job;
  }

  /**
   * A page of jobs. State `delayed` is a view, not a stored state: the queued jobs whose runAt is
   * still ahead on gaffer's clock (a delayed submission, a retry's backoff).
   */
  list(filter: ListFilter): Promise<JobPage> {
    if (filter.state !== 'delayed') return this.#o.store.list(filter as JobFilter);
    return this.#o.store.list({ ...filter, state: 'queued', dueAfter: this.#o.clock.now() });
  }

  async logs(id: string, afterSeq?: number): Promise<LogLine[]> {
    await this.get(id);
    return this.#o.store.logs(id, afterSeq);
  }

  /** The job's ended attempts, oldest first (store/attempts.ts); an unknown job is not found. */
  async attempts(id: string): Promise<AttemptRecord[]> {
    await this.get(id);
    return this.#o.store.attempts(id);
  }

  /**
   * Queue-wait expiry on gaffer's clock: up to `limit` queued jobs past their `expiresAt` end as
   * `expired`, never run (one store statement), each announced by `job:expired`. The reconciler's
   * sweep calls it; a claim never takes such a job meanwhile (the store's claim checks expiry).
   */
  async expireDue(limit = EXPIRE_PER_SWEEP): Promise<Job[]> {
    const jobs = await this.#o.store.expire(this.#o.clock.now(), limit);
    for (const job of jobs) this.#o.events.emit('job:expired', { job });
    return jobs;
  }

  /** Queued: cancelled at once. In flight: flagged; the gateway stops the worker's process. */
  async cancel(id: string): Promise<Job> {
    const before = await this.get(id);
    if (isTerminal(before.state)) throw new GafferError('GAFFER_NOT_CANCELLABLE', before.state);
    const job = await this.#o.store.cancel(id, this.#o.clock.now());
    if (!job) throw new GafferError('GAFFER_JOB_NOT_FOUND', id);
    this.#o.events.emit('job:cancelled', { job });
    return job;
  }

  async retry(id: string): Promise<Job> {
    const before = await this.get(id);
    if (!isTerminal(before.state) || before.state === 'succeeded') {
      throw new GafferError('GAFFER_NOT_RETRYABLE', before.state);
    }
    const job = await this.#o.store.requeue(id, this.#o.clock.now());
    if (!job) throw new GafferError('GAFFER_JOB_NOT_FOUND', id);
    await this.#requeued([job]);
    return job;
  }

  /** Jobs an operator sent back to the queue: to the broker (if any), then to the workers. */
  async #requeued(jobs: Job[]): Promise<void> {
    // If this publish fails the jobs stay queued; the sweep and the next start republish them.
    await this.#o
      .publish?.(jobs)
      .catch((err: unknown) => this.#o.log.error({ err }, 'republishing requeued jobs failed'));
    this.#o.events.emit('job:queued', { jobs });
  }

  // ---- worker side: every write is fenced by the lease token ----

  /** Claims under the type's pause and flow limits (src/domain/flow.ts). */
  async claim(
    type: string,
    owner: string,
    limit: number,
    to: 'running' | 'starting',
    jobIds?: readonly string[],
  ): Promise<Job[]> {
    return (await this.claimOrHold(type, owner, limit, to, jobIds)).jobs;
  }

  /** `claim`, also saying which candidates the type's pause or limits held back, and why. */
  claimOrHold(
    type: string,
    owner: string,
    limit: number,
    to: 'running' | 'starting',
    jobIds?: readonly string[],
  ): Promise<ClaimOutcome> {
    const now = this.#o.clock.now();
    const flow = this.flowLimits(type);
    const req = {
      type,
      owner,
      limit,
      now,
      leaseExpiresAt: now + this.#o.leaseTtlMs,
      to,
      ...(jobIds ? { jobIds } : {}),
      ...(flow ? { flow } : {}),
    };
    // A backlog claim of a type without limits holds nothing back but a pause, which the plain
    // claim honours too: it takes the plain claim, as before flow control.
    if (!flow && !jobIds) return this.#o.store.claim(req).then((jobs) => ({ jobs, held: [] }));
    return this.#o.store.claimOrHold(req);
  }

  /** The type's rate and key limits from the config in force; undefined when it has none. */
  flowLimits(type: string): FlowLimits | undefined {
    const config = this.#o.catalog().type(type);
    if (!config?.rateLimit && !config?.keyLimit) return undefined;
    return { rateLimit: config.rateLimit, keyLimit: config.keyLimit };
  }

  /**
   * Pauses a type (operator action, audited as `type.pause`): it still accepts submissions, but
   * no claim takes its jobs until it is resumed; jobs in flight finish. Durable state.
   */
  async pause(type: string, by: Submitter = ANONYMOUS): Promise<void> {
    await this.#setPaused(type, true, by);
  }

  /**
   * Resumes a paused type (audited as `type.resume`): its next claim takes jobs again; the
   * `type:paused` event (paused false) wakes its workers' waiting claims and the autoscaler.
   */
  async resume(type: string, by: Submitter = ANONYMOUS): Promise<void> {
    await this.#setPaused(type, false, by);
  }

  pausedTypes(): Promise<PausedType[]> {
    return this.#o.store.pausedTypes();
  }

  async #setPaused(type: string, paused: boolean, by: Submitter): Promise<void> {
    const catalog = this.#o.catalog();
    if (!catalog.type(type)) throw unknownType(catalog, type);
    outOfScope({ type, routeReason: null }, by.allows);
    const at = this.#o.clock.now();
    await this.#o.store.setPaused(type, paused, by.id, at);
    await this.#o.store.appendAudit({
      at,
      actor: by.id,
      action: paused ? 'type.pause' : 'type.resume',
      target: null,
      outcome: 'ok',
      details: { type, ...(by.via ? { api: by.via } : {}) },
    });
    this.#o.events.emit('type:paused', { type, paused });
  }

  /**
   * Why a queued job waits under its type's pause or flow limits now, or null when none holds it
   * (then the worker-side reasons of src/jobs/waiting.ts apply).
   */
  async flowHold(job: Pick<Job, 'type' | 'payload' | 'attributes'>): Promise<Hold | null> {
    const limits = this.flowLimits(job.type) ?? {};
    const key = limits.keyLimit ? keyOf(limits.keyLimit.key, job) : null;
    const now = this.#o.clock.now();
    const standing = await this.#o.store.flowStanding(job.type, key, now, limits);
    return holdOf(limits, { ...standing, now });
  }

  heartbeat(id: string, token: number): Promise<boolean> {
    return this.#o.store.heartbeat(id, token, this.#o.clock.now() + this.#o.leaseTtlMs);
  }

  async markRunning(id: string, token: number): Promise<Job | null> {
    const now = this.#o.clock.now();
    const [job] = await this.#finishes.add([
      { id, token, now, to: 'running', leaseExpiresAt: now + this.#o.leaseTtlMs },
    ]);
    if (job) this.#o.events.emit('job:started', { job });
    return job ?? null;
  }

  async appendLog(id: string, stream: 'stdout' | 'stderr', data: string): Promise<void> {
    await this.#o.store.appendLog(id, stream, data, this.#o.clock.now());
    this.#o.events.emit('job:log', { jobId: id, stream, data });
  }

  /**
   * Records how an attempt ended. Returns the job after, or null when the token was stale (the
   * job was re-leased meanwhile, or already ended): the write is refused (invariant 1).
   */
  async complete(
    job: Pick<Job, 'id' | 'type' | 'attempt' | 'maxAttempts'>,
    token: number,
    outcome: Outcome,
  ) {
    const update = await this.#updateFor(job, token, outcome);
    const [after] = await this.#finishes.add([update]);
    if (after) this.#announce(after, 'error' in update ? (update.error ?? null) : null);
    return after ?? null;
  }

  /**
   * Ends attempts whose holder is gone (lease expired, worker exited): retried or ended. A suspect
   * (its last error says `workerLost`) stays one: an attempt that ended without word from the
   * job (a claim its worker never received, an expired lease) clears no suspicion, so its next
   * attempt is still sandboxed.
   */
  async abandon(
    jobs: readonly Job[],
    error: JobError,
    cause: RedeliveryCause = 'worker_lost',
  ): Promise<Job[]> {
    const out: Job[] = [];
    for (const job of jobs) {
      if (job.leaseToken === null) continue;
      const still = job.error?.workerLost === true && error.workerLost !== true;
      const failure = still ? { ...error, workerLost: true } : error;
      const after = await this.complete(job, job.leaseToken, { status: 'failed', error: failure });
      if (after) out.push(after);
      // Metrics count redeliveries by cause (`cause`: who found the attempt abandoned).
      if (after?.state === 'queued') this.#o.events.emit('job:redelivered', { job: after, cause });
    }
    return out;
  }

  /**
   * Hands back jobs whose attempt gaffer's stop cut short: queued again, due at once,
   * the attempt not counted — the job did not fail, an operator stopped gaffer — with
   * `error.interrupted` and an `interrupted` row in its attempt history. Fenced like every
   * completion (a job that ended or was re-leased meanwhile is left alone); a job whose cancel
   * was requested ends cancelled instead. Returns the jobs handed back to the queue.
   */
  async interrupt(
    held: readonly { job: Pick<Job, 'id' | 'type' | 'attempt' | 'maxAttempts'>; token: number }[],
  ): Promise<Job[]> {
    const now = this.#o.clock.now();
    const error: JobError = {
      class: 'infrastructure',
      message:
        'interrupted by stop: gaffer was stopped while the job ran; it was handed back to the ' +
        'queue without spending an attempt',
      interrupted: true,
    };
    const out: Job[] = [];
    await Promise.all(
      held.map(async ({ job, token }) => {
        if ((await this.#o.store.get(job.id))?.cancelRequested) {
          await this.complete(job, token, { status: 'cancelled' });
          return;
        }
        const [after] = await this.#finishes.add([
          { id: job.id, token, now, to: 'queued', runAt: now, error, refund: true },
        ]);
        if (!after) return;
        out.push(after);
        this.#o.events.emit('job:redelivered', { job: after, cause: 'gaffer_stopped' });
      }),
    );
    return out;
  }

  async #updateFor(
    job: Pick<Job, 'id' | 'type' | 'attempt' | 'maxAttempts'>,
    token: number,
    outcome: Outcome,
  ): Promise<FinishUpdate> {
    const now = this.#o.clock.now();
    if (outcome.status === 'succeeded') {
      const result = capResult(outcome.result, this.#o.resultBytes?.());
      return { id: job.id, token, now, to: 'succeeded', result };
    }
    if (outcome.status === 'cancelled') return { id: job.id, token, now, to: 'cancelled' };
    // A failure after a cancel request ends the job: a retry would sit unclaimable forever.
    // Failures are rare, so the extra read is cheap.
    const failure = failureOf(outcome);
    if ((await this.#o.store.get(job.id))?.cancelRequested) {
      return { id: job.id, token, now, to: 'cancelled', ...(failure ? { error: failure } : {}) };
    }
    if (outcome.status === 'snoozed' && failure === null) {
      const runAt = now + outcome.delayMs;
      const error = snoozeError(outcome.delayMs);
      return { id: job.id, token, now, to: 'queued', runAt, error, refund: true };
    }
    const type = this.#o.catalog().type(job.type) ?? {
      retry: { maxAttempts: 1, backoffMs: 0, maxBackoffMs: 0 },
      deadLetter: true,
    };
    const given = failure!;
    const next = afterFailure(job, given, type, now);
    // The record says when a failure was final by rule (an exit code listed as non-retryable).
    const error = isRetryable(given, type.retry) ? given : { ...given, retryable: false };
    if (next.to === 'queued') {
      return { id: job.id, token, now, to: 'queued', runAt: next.runAt, error };
    }
    return { id: job.id, token, now, to: next.to, error };
  }

  #announce(job: Job, error: JobError | null): void {
    const events = this.#o.events;
    if (job.state === 'succeeded') events.emit('job:succeeded', { job });
    else if (job.state === 'cancelled') events.emit('job:cancelled', { job });
    else if (job.state === 'queued' && error) events.emit('job:retrying', { job, error });
    else events.emit('job:failed', { job });
  }
}

/**
 * The failure an outcome amounts to: a failure's error within the delay bounds, a snooze the
 * bounds refuse as an application failure saying why, null for a snooze within them.
 */
function failureOf(outcome: Exclude<Outcome, { status: 'succeeded' | 'cancelled' }>) {
  if (outcome.status === 'failed') return boundedFailure(outcome.error);
  const problem = delayProblem(outcome.delayMs, 'snooze');
  return problem === null ? null : ({ class: 'application', message: problem } satisfies JobError);
}

/** The caller's type scope: true for the job types it may submit. Absent: every type. */
export type TypeScope = (type: string) => boolean;

/**
 * Who submits: `id` is the API key's id ('anonymous' with auth off, 'library' in code) — the
 * scope of its idempotency keys (with the job type) and the actor in the audit log; `allows`, its
 * type scope (absent: every type); `via`, the front end when it is not HTTP (the audit's `api`).
 */
export interface Submitter {
  id: string;
  allows?: TypeScope | undefined;
  via?: string | undefined;
}

/** Submissions with no submitter named: auth off. */
export const ANONYMOUS: Submitter = { id: 'anonymous' };

/**
 * A job an idempotency key returned must be the one this submission would have made: the same
 * payload, priority, attributes, attempts, timeout and data (compared as stored, so as JSON: key
 * order and `undefined` members do not count). Else GAFFER_IDEMPOTENCY_CONFLICT.
 */
function sameSubmission(stored: Job, fresh: NewJob): void {
  const asJson = (v: unknown) =>
    v === undefined ? null : (JSON.parse(JSON.stringify(v)) as unknown);
  const same =
    stored.type === fresh.type &&
    stored.priority === fresh.priority &&
    stored.maxAttempts === fresh.maxAttempts &&
    stored.timeoutMs === fresh.timeoutMs &&
    isDeepStrictEqual(stored.payload, asJson(fresh.payload)) &&
    isDeepStrictEqual(stored.attributes, asJson(fresh.attributes)) &&
    isDeepStrictEqual(stored.data, asJson(fresh.data));
  if (!same) {
    throw new GafferError(
      'GAFFER_IDEMPOTENCY_CONFLICT',
      `key ${JSON.stringify(fresh.idempotencyKey)} holds job ${stored.id}, submitted differently; use a new key for a new job`,
      { details: { jobId: stored.id } },
    );
  }
}

function outOfScope(
  job: Pick<NewJob, 'type' | 'routeReason'>,
  allows: TypeScope | undefined,
): void {
  if (allows && !allows(job.type)) {
    const how = job.routeReason ? ` (routed: ${job.routeReason})` : '';
    throw new GafferError(
      'GAFFER_FORBIDDEN',
      `this key may not submit jobs of type ${job.type}${how}`,
    );
  }
}

/** The store's write failed for want of disk: SQLite's SQLITE_FULL, PostgreSQL's 53100. */
function diskFull(err: unknown): boolean {
  const e = err as { errcode?: unknown; code?: unknown } | null;
  return e?.errcode === 13 || e?.code === '53100';
}
