/**
 * The wire types. Where the server has them they are the server's own, imported as types only
 * (`import type` is erased at runtime), so the client loads no server code. The few answers the
 * server builds inline (the session, the batch list, the stats history) are declared here.
 */
import type { Static } from 'typebox';
import type { RunBody } from '../api/routes/run.ts';
import type {
  BatchBody,
  DeadLetterEditBody,
  DeadLetterListQuery,
  DeadLetterReplayBody,
  ListQuery,
  SubmissionBody,
  UploadQuery,
} from '../api/schemas.ts';
import type { ScalingDecision, WorkerInfo, WorkerState } from '../domain/events.ts';
import type { JobError, JobState, JobView } from '../domain/job.ts';
import type { QueueStatus } from '../jobs/queue-view.ts';
import type { ScheduleConfig } from '../config/schema.ts';
import type { ScheduleSource, ScheduleView } from '../schedules/service.ts';
import type { PausedType } from '../store/roles/type-controls.ts';
import type { Waiting } from '../jobs/waiting.ts';
import type { RetryFailedReport } from '../jobs/batch-retry.ts';
import type {
  AuditPage,
  AuditRecord as AuditEntry,
  BatchSummary,
  LogLine,
  RejectedRow,
  WorkerEvent,
} from '../store/job-store.ts';
import type { RejectedSubmission } from '../jobs/service.ts';
import type { Sample } from '../history/sampler.ts';
import type { AttemptOutcome, AttemptRecord as Attempt } from '../store/attempts.ts';
export type { Attempt, AttemptOutcome };

export type {
  AuditEntry,
  AuditPage,
  BatchSummary as Batch,
  JobError,
  JobState,
  LogLine,
  RejectedRow,
  RejectedSubmission,
  Sample,
  ScalingDecision,
  Waiting,
  WorkerEvent,
  WorkerInfo,
  WorkerState,
};

/** `limit` has a server-side default: optional to send. */
type WithOptionalLimit<T> = Omit<T, 'limit'> & { limit?: number };

export type Submission = Static<typeof SubmissionBody>;
export type BatchSubmission = Static<typeof BatchBody>;
/** An ad-hoc command (POST /v1/run). */
export type RunRequest = Static<typeof RunBody>;
export type ListJobsQuery = WithOptionalLimit<Static<typeof ListQuery>>;
export type DeadLetterQuery = WithOptionalLimit<Static<typeof DeadLetterListQuery>>;
export type DeadLetterEdit = Static<typeof DeadLetterEditBody>;
export type ReplaySelection = WithOptionalLimit<Static<typeof DeadLetterReplayBody>>;
export type UploadParams = Static<typeof UploadQuery>;

/** A job as GET /v1/jobs/:id answers: its record and, before it starts, why it waits. */
export type ApiJob = JobView & { waiting?: Waiting };

export interface JobPage {
  jobs: ApiJob[];
  nextCursor: string | null;
}

export interface BatchSubmitResult {
  batchId: string;
  accepted: number;
  rejected: RejectedSubmission[];
  jobIds: string[];
}

export interface UploadResult {
  batch: BatchSummary;
  /** The first rejected rows; all of them: `batches.rejected(id)`. */
  rejected: RejectedRow[];
}

export interface ReplayResult {
  replayed: number;
  jobIds: string[];
  skipped: { id: string; code: string; message: string }[];
}

export type { QueueStatus };
export type { PausedType, ScheduleSource, ScheduleView };
/** A cron schedule as the config's `schedules.<name>` declares it (what `PUT /v1/schedules/:name` takes). */
export type ScheduleDefinition = ScheduleConfig;
/** `GET /v1/schedules/:name`: the schedule, and the jobs of its recent runs (newest first). */
export interface ScheduleDetail {
  schedule: ScheduleView;
  jobs: ApiJob[];
}
export type DesiredScale = Record<string, { current: number; desired: number }>;

export interface TypeQuery {
  type?: string;
  limit?: number;
}

// ---- answers the server builds inline

export interface BatchList {
  batches: BatchSummary[];
  nextCursor: string | null;
}

/** POST /v1/batches/:id/retry-failed: what went back to the queue, what was left and why. */
export type RetryFailedResult = RetryFailedReport;

export interface Principal {
  id: string;
  role: 'viewer' | 'submitter' | 'operator';
  /** null or absent: every type. */
  types?: string[] | null;
}

export interface Session {
  principal: Principal;
  /** false when auth is off (everyone is the anonymous operator). */
  auth?: boolean;
}

export interface AuditQuery {
  limit?: number;
  cursor?: string;
  actor?: string;
  action?: string;
}

export interface StatsHistory {
  /** Between samples. */
  intervalMs: number;
  /** The server's clock when it answered (samples are on this clock). */
  now: number;
  samples: Sample[];
}

/** What GET /v1/events sends (src/api/routes/events.ts), one variant per event name. */
export type GafferEvent =
  | { event: 'hello'; data: { at: number } }
  | {
      event: 'jobs';
      data: {
        changed: number;
        sample: { id: string; type: string; state: JobState; attempt: number }[];
      };
    }
  | { event: 'worker'; data: WorkerInfo }
  | { event: 'decision'; data: ScalingDecision }
  | { event: 'batch'; data: { batchId: string } };
