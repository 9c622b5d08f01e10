/**
 * gaffer's public API (docs/library.md), `import … from 'gaffer'`. Only what is named here is
 * supported; everything else is internal and reachable from no `exports` entry of package.json.
 * test/library/public-api.test.ts pins this list (values) and test/library/api-types.ts the
 * types; a change to either is a change to the API.
 */
export { createGaffer, defineJob, Gaffer } from './library/gaffer.ts';
export { JobFailedError } from './library/wait.ts';
export { StartError } from './library/start-error.ts';
export type { StopSummary } from './orchestrator.ts';
export type {
  BatchSubmitted,
  ConfigInput,
  DeepPartial,
  GafferOptions,
  JobDefinition,
  JobDefinitions,
  JobHandle,
  ListenOptions,
  PayloadOf,
  ResultOf,
  ScheduleInput,
  SubmitOptions,
  WaitOptions,
} from './library/types.ts';
export type { JobContext, JobHandler } from './worker/handler.ts';
export { NonRetryableError, RetryAfter, Snooze, snooze } from './worker/handler.ts';
export type { Job, JobState, JobError, FailureClass, JobData } from './domain/job.ts';
export type {
  GafferEventMap,
  GafferEventName,
  WorkerInfo,
  WorkerState,
  ScalingDecision,
  StartBlock,
} from './domain/events.ts';
export type { Submission } from './jobs/prepare.ts';
export type { ListFilter, RejectedSubmission } from './jobs/service.ts';
export type { Waiting, WaitingReason } from './jobs/waiting.ts';
export type {
  BatchPage,
  BatchSummary,
  JobFilter,
  JobPage,
  LogLine,
  QueueStats,
  RejectedRow,
} from './store/job-store.ts';
export type { RetryFailedReport } from './jobs/batches.ts';
export type { ScheduleDetail, ScheduleSource, ScheduleView } from './schedules/service.ts';
export {
  ConfigError,
  type ConfigOverrides,
  type ConfigProblem,
  type ResolvedConfig,
} from './config/load.ts';
export type { GafferConfig, JobTypeConfig } from './config/schema.ts';
export type { ReloadStatus } from './config/watch.ts';
export type { Clock } from './domain/clock.ts';
export type { Logger, LogFn } from './domain/logger.ts';
export { GafferError, ERRORS, type ErrorCode } from './errors.ts';
