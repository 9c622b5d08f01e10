import type { AuditLog } from './roles/audit-log.ts';
import type { BatchRecords } from './roles/batch-records.ts';
import type { DeadLetterWrites } from './roles/dead-letter-writes.ts';
import type { JobListing } from './roles/job-listing.ts';
import type { JobRecords } from './roles/job-records.ts';
import type { JobRetention } from './roles/job-retention.ts';
import type { RunHistory } from './roles/run-history.ts';
import type { ScalingLog } from './roles/scaling-log.ts';
import type { ScheduleRecords } from './roles/schedule-records.ts';
import type { TypeControls } from './roles/type-controls.ts';

/**
 * The job record, the single source of truth (invariant 1): one backend object per store
 * (sqlite/, postgres/) that plays every role in ./roles/. Each consumer depends on the roles, or a
 * `Pick` of one, that it uses; only the composition root holds the whole store.
 *
 * Every method is atomic. Times are store-clock ms passed in by the caller (the service owns the
 * one clock, invariant 6). Writes by a worker carry the lease token it was given at claim; a write
 * whose token is not the job's current one changes nothing and reports `false` (fencing).
 *
 * A store shared by several gaffer processes also plays `LeaderLease` (./leader-lease.ts).
 */
export interface JobStore
  extends
    JobRecords,
    JobListing,
    DeadLetterWrites,
    JobRetention,
    RunHistory,
    BatchRecords,
    AuditLog,
    ScalingLog,
    ScheduleRecords,
    TypeControls {
  /** Ends the connection; calls in progress finish first. */
  close(): Promise<void>;
}

// The roles' record types, for the callers that need only those (API schemas, the client).
export type { AuditEntry, AuditFilter, AuditPage, AuditRecord } from './roles/audit-log.ts';
export type { BatchPage, BatchRecord, BatchSummary, RejectedRow } from './roles/batch-records.ts';
export type { DeadLetterEdit } from './roles/dead-letter-writes.ts';
export type { JobFilter, JobPage, QueueStats } from './roles/job-listing.ts';
export type { ClaimOutcome, ClaimRequest, FinishUpdate } from './roles/job-records.ts';
export type { FlowStanding, PausedType } from './roles/type-controls.ts';
export { cutEntry, logTrimMarker, type PurgeRequest } from './roles/job-retention.ts';
export type { LogLine } from './roles/run-history.ts';
export type { WorkerEvent } from './roles/scaling-log.ts';
export type {
  ScheduleDefinition,
  ScheduleState,
  StoredSchedule,
} from './roles/schedule-records.ts';
