import type { JobStore } from '../job-store.ts';
import { expireDue } from './expiry.ts';
import type { AuditLog } from '../roles/audit-log.ts';
import type { BatchRecords } from '../roles/batch-records.ts';
import type { DeadLetterWrites } from '../roles/dead-letter-writes.ts';
import type { JobListing } from '../roles/job-listing.ts';
import type { JobRecords } from '../roles/job-records.ts';
import type { JobRetention } from '../roles/job-retention.ts';
import type { RunHistory } from '../roles/run-history.ts';
import type { ScalingLog } from '../roles/scaling-log.ts';
import type { ScheduleRecords } from '../roles/schedule-records.ts';
import type { TypeControls } from '../roles/type-controls.ts';
import * as flow from './flow.ts';
import type { LeaderLease } from '../leader-lease.ts';
import { createPool } from './db.ts';
import * as jobs from './jobs.ts';
import * as lifecycle from './lifecycle.ts';
import { acquireLease, releaseLease } from './lease.ts';
import { listJobs, queuePosition, queueStats, readyJobs, becameDue, dueWithin } from './listing.ts';
import { migrate } from './migrations.ts';
import * as audit from './audit.ts';
import { attempts } from './attempts.ts';
import * as records from './records.ts';
import * as schedules from './schedules.ts';
import { listBatches } from './batch-list.ts';

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** Connections in this process's pool (default 10). */
  poolSize?: number;
}

/** The job store, plus the leader lease that only a shared database can provide. */
export type PostgresStore = JobStore & LeaderLease;

const DEFAULT_POOL_SIZE = 10;

/**
 * The shared store: several gaffer processes may use one database. "Committed" means COMMIT
 * returned, which with the server's synchronous_commit = on means the WAL reached disk. Unlike
 * SQLite, calls from this process run concurrently on the pool's connections; each method is one
 * statement or one transaction, so each is still atomic. Brings the schema up to date (under an
 * advisory lock) before resolving.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const pool = createPool(options.url, options.poolSize ?? DEFAULT_POOL_SIZE);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  let closed: Promise<void> | undefined;
  // One object plays every role (../job-store.ts); each role's methods are checked as a group.
  const jobRecords: JobRecords = {
    insert: (list) => jobs.insertJobs(pool, list),
    get: (id) => jobs.getJob(pool, id),
    claim: async (req) => (await flow.claimOrHold(pool, req)).jobs,
    claimOrHold: (req) => flow.claimOrHold(pool, req),
    heartbeat: (id, token, expiresAt) => jobs.heartbeat(pool, id, token, expiresAt),
    finish: (updates) => jobs.finishJobs(pool, updates),
    findExpired: (now, owners) => jobs.findExpired(pool, now, owners),
    expire: (now, limit) => expireDue(pool, now, limit),
    findOwnedByPrefix: (prefix, except) => jobs.findOwnedByPrefix(pool, prefix, except),
    cancel: (id, now) => jobs.cancelJob(pool, id, now),
    requeue: (id, now) => jobs.requeueJob(pool, id, now),
    deleteQueued: (ids) => jobs.deleteQueued(pool, ids),
  };
  const jobListing: JobListing = {
    list: (filter) => listJobs(pool, filter),
    queueStats: (now) => queueStats(pool, now),
    readyJobs: (type, dueBy, limit) => readyJobs(pool, type, dueBy, limit),
    becameDue: (type, after, upTo, limit) => becameDue(pool, type, after, upTo, limit),
    queuePosition: (job, now) => queuePosition(pool, job, now),
    dueWithin: (type, now, upTo) => dueWithin(pool, type, now, upTo),
  };
  const deadLetterWrites: DeadLetterWrites = {
    editDeadLettered: (id, patch) => lifecycle.editDeadLettered(pool, id, patch),
    replayDeadLettered: (ids, now) => lifecycle.replayDeadLettered(pool, ids, now),
  };
  const jobRetention: JobRetention = {
    purgeEnded: (req) => lifecycle.purgeEnded(pool, req),
    trimLogs: (maxBytes, afterSeq) => lifecycle.trimLogs(pool, maxBytes, afterSeq),
  };
  const runHistory: RunHistory = {
    appendLog: (id, stream, data, now) => records.appendLog(pool, id, stream, data, now),
    logs: (id, afterSeq) => records.readLogs(pool, id, afterSeq),
    attempts: (jobId) => attempts(pool, jobId),
  };
  const batchRecords: BatchRecords = {
    createBatch: (batch) => records.createBatch(pool, batch),
    updateBatch: (id, patch) => records.updateBatch(pool, id, patch),
    getBatch: (id) => records.getBatch(pool, id),
    listBatches: (filter) => listBatches(pool, filter),
    addRejectedRows: (batchId, rows) => records.addRejectedRows(pool, batchId, rows),
    rejectedRows: (batchId) => records.rejectedRows(pool, batchId),
  };
  const auditLog: AuditLog = {
    appendAudit: (entry) => audit.appendAudit(pool, entry),
    listAudit: (filter) => audit.listAudit(pool, filter),
  };
  const scalingLog: ScalingLog = {
    recordDecision: (decision) => records.recordDecision(pool, decision),
    decisions: (filter) => records.decisions(pool, filter),
    recordWorkerEvent: (event) => records.recordWorkerEvent(pool, event),
    workerEvents: (filter) => records.workerEvents(pool, filter),
  };
  const scheduleRecords: ScheduleRecords = {
    putSchedule: (name, definition, now) => schedules.putSchedule(pool, name, definition, now),
    getSchedule: (name) => schedules.getSchedule(pool, name),
    listSchedules: () => schedules.listSchedules(pool),
    deleteSchedule: (name) => schedules.deleteSchedule(pool, name),
    ensureScheduleState: (name, since, nextDue) =>
      schedules.ensureScheduleState(pool, name, since, nextDue),
    getScheduleState: (name) => schedules.getScheduleState(pool, name),
    listScheduleStates: () => schedules.listScheduleStates(pool),
    setSchedulePaused: (name, paused) => schedules.setSchedulePaused(pool, name, paused),
    advanceSchedule: (name, expected, advance) =>
      schedules.advanceSchedule(pool, name, expected, advance),
  };
  const leaderLease: LeaderLease = {
    acquire: (name, holder, ttlMs, now) => acquireLease(pool, name, holder, ttlMs, now),
    release: (name, holder) => releaseLease(pool, name, holder),
  };
  const typeControls: TypeControls = {
    setPaused: (type, paused, by, at) => flow.setPaused(pool, type, paused, by, at),
    pausedTypes: () => flow.pausedTypes(pool),
    flowStanding: (type, key, now, limits) => flow.flowStanding(pool, type, key, now, limits),
  };
  return {
    ...jobRecords,
    ...jobListing,
    ...deadLetterWrites,
    ...jobRetention,
    ...runHistory,
    ...batchRecords,
    ...auditLog,
    ...scalingLog,
    ...scheduleRecords,
    ...leaderLease,
    ...typeControls,
    // Waits for queries in progress; a second call gets the same promise (pool.end throws twice).
    close: () => (closed ??= pool.end()),
  };
}
