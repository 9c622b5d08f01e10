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
import * as jobs from './jobs.ts';
import { insertJobs } from './insert.ts';
import * as lifecycle from './lifecycle.ts';
import { listJobs, queuePosition, queueStats, readyJobs, becameDue, dueWithin } from './listing.ts';
import * as audit from './audit.ts';
import { attempts } from './attempts.ts';
import * as records from './records.ts';
import * as schedules from './schedules.ts';
import { listBatches } from './batch-list.ts';
import { BACKSTOP_PAGES, startCheckpointer } from './checkpointer.ts';
import { openDatabase, type OpenOptions } from './schema.ts';
import { Statements } from './statements.ts';
import type { Logger } from '../../domain/logger.ts';

/**
 * The embedded store: one SQLite file in WAL mode. "Committed" means the COMMIT returned: with
 * synchronous=FULL the WAL was fsynced (survives power loss), with NORMAL it reached the OS (survives
 * a gaffer crash, not a machine crash). Work runs synchronously inside each call, so calls from
 * this process never interleave; other processes are serialised by SQLite's lock (busy_timeout).
 * A worker thread checkpoints the WAL (./checkpointer.ts).
 */
export function createSqliteStore(
  options: OpenOptions & {
    /** Where the checkpointer's failure is reported (checkpoints move back onto the writer). */
    log: Pick<Logger, 'warn'>;
  },
): JobStore {
  const db = openDatabase(options);
  const s = new Statements(db);
  const checkpointer =
    options.path === ':memory:'
      ? null
      : startCheckpointer({
          path: options.path,
          synchronous: options.synchronous,
          onExit: (err) => {
            options.log.warn(
              { error: String(err) },
              'sqlite: the checkpointer stopped; checkpointing on the writer again',
            );
            if (db.isOpen) db.exec('PRAGMA wal_autocheckpoint = 1000');
          },
        });
  if (checkpointer) db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  // One object plays every role (../job-store.ts); each role's methods are checked as a group.
  const jobRecords: JobRecords = {
    insert: async (list) => insertJobs(s, list),
    get: async (id) => jobs.getJob(s, id),
    claim: async (req) => flow.claimOrHold(s, req).jobs,
    claimOrHold: async (req) => flow.claimOrHold(s, req),
    heartbeat: async (id, token, expiresAt) => jobs.heartbeat(s, id, token, expiresAt),
    finish: async (updates) => jobs.finishJobs(s, updates),
    findExpired: async (now, owners) => jobs.findExpired(s, now, owners),
    expire: async (now, limit) => expireDue(s, now, limit),
    findOwnedByPrefix: async (prefix, except) => jobs.findOwnedByPrefix(s, prefix, except),
    cancel: async (id, now) => jobs.cancelJob(s, id, now),
    requeue: async (id, now) => jobs.requeueJob(s, id, now),
    deleteQueued: async (ids) => jobs.deleteQueued(s, ids),
  };
  const jobListing: JobListing = {
    list: async (filter) => listJobs(s, filter),
    queueStats: async (now) => queueStats(s, now),
    readyJobs: async (type, dueBy, limit) => readyJobs(s, type, dueBy, limit),
    becameDue: async (type, after, upTo, limit) => becameDue(s, type, after, upTo, limit),
    queuePosition: async (job, now) => queuePosition(s, job, now),
    dueWithin: async (type, now, upTo) => dueWithin(s, type, now, upTo),
  };
  const deadLetterWrites: DeadLetterWrites = {
    editDeadLettered: async (id, patch) => lifecycle.editDeadLettered(s, id, patch),
    replayDeadLettered: async (ids, now) => lifecycle.replayDeadLettered(s, ids, now),
  };
  const jobRetention: JobRetention = {
    purgeEnded: async (req) => lifecycle.purgeEnded(s, req),
    trimLogs: async (maxBytes, afterSeq) => lifecycle.trimLogs(s, maxBytes, afterSeq),
  };
  const runHistory: RunHistory = {
    appendLog: async (id, stream, data, now) => records.appendLog(s, id, stream, data, now),
    logs: async (id, afterSeq) => records.readLogs(s, id, afterSeq),
    attempts: async (jobId) => attempts(s, jobId),
  };
  const batchRecords: BatchRecords = {
    createBatch: async (batch) => records.createBatch(s, batch),
    updateBatch: async (id, patch) => records.updateBatch(s, id, patch),
    getBatch: async (id) => records.getBatch(s, id),
    listBatches: async (filter) => listBatches(s, filter),
    addRejectedRows: async (batchId, rows) => records.addRejectedRows(s, batchId, rows),
    rejectedRows: async (batchId) => records.rejectedRows(s, batchId),
  };
  const auditLog: AuditLog = {
    appendAudit: async (entry) => audit.appendAudit(s, entry),
    listAudit: async (filter) => audit.listAudit(s, filter),
  };
  const scalingLog: ScalingLog = {
    recordDecision: async (decision) => records.recordDecision(s, decision),
    decisions: async (filter) => records.decisions(s, filter),
    recordWorkerEvent: async (event) => records.recordWorkerEvent(s, event),
    workerEvents: async (filter) => records.workerEvents(s, filter),
  };
  const typeControls: TypeControls = {
    setPaused: async (type, paused, by, at) => flow.setPaused(s, type, paused, by, at),
    pausedTypes: async () => flow.pausedTypes(s),
    flowStanding: async (type, key, now, limits) => flow.flowStanding(s, type, key, now, limits),
  };
  const scheduleRecords: ScheduleRecords = {
    putSchedule: async (name, definition, now) => schedules.putSchedule(s, name, definition, now),
    getSchedule: async (name) => schedules.getSchedule(s, name),
    listSchedules: async () => schedules.listSchedules(s),
    deleteSchedule: async (name) => schedules.deleteSchedule(s, name),
    ensureScheduleState: async (name, since, nextDue) =>
      schedules.ensureScheduleState(s, name, since, nextDue),
    getScheduleState: async (name) => schedules.getScheduleState(s, name),
    listScheduleStates: async () => schedules.listScheduleStates(s),
    setSchedulePaused: async (name, paused) => schedules.setSchedulePaused(s, name, paused),
    advanceSchedule: async (name, expected, advance) =>
      schedules.advanceSchedule(s, name, expected, advance),
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
    ...typeControls,
    close: async () => {
      await checkpointer?.stop();
      if (db.isOpen) db.close();
    },
  };
}
