/**
 * gaffer's public API. Only what is named here is supported; everything else is internal.
 * (Issue 8 grows this into the full embeddable library.)
 */
export { Orchestrator, type OrchestratorOptions } from './orchestrator.ts';
export { buildApp, type AppOptions } from './api/app.ts';
export { resolveConfig, parseConfig, ConfigError, type ResolvedConfig } from './config/load.ts';
export type { GafferConfig, JobTypeConfig } from './config/schema.ts';
export type { Job, JobState, JobError, FailureClass } from './domain/job.ts';
export type {
  GafferEventMap,
  GafferEventName,
  WorkerInfo,
  ScalingDecision,
} from './domain/events.ts';
export type { JobContext, JobHandler } from './worker/handler.ts';
export { NonRetryableError } from './worker/handler.ts';
export type { Submission } from './jobs/prepare.ts';
export { GafferError, ERRORS, type ErrorCode } from './errors.ts';
