import type { Job } from '../../domain/job.ts';
import type { GafferEvents } from '../../domain/events.ts';
import { GafferError } from '../../errors.ts';
import type { BatchItem, BatchService } from '../../jobs/batches.ts';
import type { QueueView } from '../../jobs/queue-view.ts';
import type { JobService, Submitter } from '../../jobs/service.ts';
import type { Principal } from '../auth/access.ts';
import { listInScope, requireJobInScope, submitter } from '../auth/scope.ts';
import {
  jobIdOf,
  listFilterOf,
  refuseUnknownNumbers,
  toJobMessage,
  toRunCommand,
  toWaitingMessage,
  toSubmission,
} from './convert.ts';
import type { RunCommand } from '../run-command.ts';
import type { ScheduleService, ScheduleView } from '../../schedules/service.ts';
import type * as pb from './types.ts';
import { watchJob } from './watch.ts';

/** What the gRPC service needs of gaffer: the job and batch services (never the store), events. */
export interface GafferServiceDeps {
  service: Pick<JobService, 'submit' | 'get' | 'list' | 'cancel' | 'pause' | 'resume'>;
  schedules: Pick<ScheduleService, 'list' | 'trigger'>;
  /** SubmitJobs records a batch, as POST /v1/jobs/batch does. */
  batches: Pick<BatchService, 'submit'>;
  events: GafferEvents;
  /** `server.maxBatchJobs`: the largest SubmitJobs, as for POST /v1/jobs/batch. */
  maxBatchJobs: () => number;
  /** Why a job not started yet waits, as GET /v1/jobs/:id answers it. */
  queues: Pick<QueueView, 'waiting'>;
  /** One ad-hoc command (src/api/run-command.ts, as POST /v1/run). */
  run: (principal: Principal, run: RunCommand) => Promise<Job>;
}

/**
 * The Gaffer service's methods, each given the caller (already holding the method's right, see
 * server.ts) and the decoded request. A submission of a type outside the caller's scope is refused
 * GAFFER_FORBIDDEN by the service (once routing has picked its type); a job of such a type is
 * answered here as an unknown id (NOT_FOUND) for a read, watch or cancel.
 */
export function gafferService(deps: GafferServiceDeps) {
  const { service } = deps;

  /** The caller as a submitter: its type scope, checked once routing has picked the type. */
  const scopeOf = (principal: Principal): Submitter => submitter(principal, 'grpc');
  const readable = async (principal: Principal, id: string): Promise<Job> => {
    return requireJobInScope(principal, await service.get(id));
  };

  return {
    async submitJob(principal: Principal, req: pb.SubmitJobRequest): Promise<pb.SubmitJobResponse> {
      const { job, created } = await service.submit(toSubmission(req), scopeOf(principal));
      return { job: toJobMessage(job), created };
    },

    /**
     * One batch (source `grpc`), as POST /v1/jobs/batch records one: items that fail conversion
     * or the scope are rejected by index, like invalid ones, and counted in the batch.
     */
    async submitJobs(
      principal: Principal,
      req: pb.SubmitJobsRequest,
    ): Promise<pb.SubmitJobsResponse> {
      refuseUnknownNumbers(req, 'SubmitJobsRequest');
      const items = req.jobs ?? [];
      const max = deps.maxBatchJobs();
      if (items.length > max) {
        throw new GafferError('GAFFER_BATCH_TOO_LARGE', `${items.length} > ${max}`);
      }
      const read = items.map((item): BatchItem => {
        try {
          return toSubmission(item, req.type || undefined);
        } catch (err) {
          if (!(err instanceof GafferError)) throw err;
          return err;
        }
      });
      const { batchId, accepted, rejected } = await deps.batches.submit(read, {
        source: 'grpc',
        type: req.type || null,
        by: scopeOf(principal),
      });
      return { jobIds: accepted.map((j) => j.id), rejected, batchId };
    },

    async runCommand(
      principal: Principal,
      req: pb.RunCommandRequest,
    ): Promise<pb.RunCommandResponse> {
      return { job: toJobMessage(await deps.run(principal, toRunCommand(req))) };
    },

    async getJob(principal: Principal, req: pb.GetJobRequest): Promise<pb.Job> {
      const job = await readable(principal, jobIdOf(req));
      const why = await deps.queues.waiting(job);
      return { ...toJobMessage(job), ...(why ? { waiting: toWaitingMessage(why) } : {}) };
    },

    async listJobs(principal: Principal, req: pb.ListJobsRequest): Promise<pb.ListJobsResponse> {
      const page = await listInScope((f) => service.list(f), listFilterOf(req), principal);
      return { jobs: page.jobs.map(toJobMessage), nextCursor: page.nextCursor ?? '' };
    },

    async cancelJob(principal: Principal, req: pb.CancelJobRequest): Promise<pb.Job> {
      const id = jobIdOf(req);
      await readable(principal, id);
      return toJobMessage(await service.cancel(id));
    },

    async pauseType(principal: Principal, req: pb.TypeRequest): Promise<pb.TypeStatus> {
      await service.pause(req.type ?? '', scopeOf(principal));
      return { type: req.type ?? '', paused: true };
    },

    async resumeType(principal: Principal, req: pb.TypeRequest): Promise<pb.TypeStatus> {
      await service.resume(req.type ?? '', scopeOf(principal));
      return { type: req.type ?? '', paused: false };
    },

    async listSchedules(
      principal: Principal,
      _req: pb.ListSchedulesRequest,
    ): Promise<pb.ListSchedulesResponse> {
      return { schedules: (await deps.schedules.list(scopeOf(principal))).map(toScheduleMessage) };
    },

    async triggerSchedule(principal: Principal, req: pb.TriggerScheduleRequest): Promise<pb.Job> {
      return toJobMessage(await deps.schedules.trigger(req.name ?? '', scopeOf(principal)));
    },

    /** Resolves once the job's terminal state was sent, or when `signal` aborts. */
    async watchJob(
      principal: Principal,
      req: pb.WatchJobRequest,
      send: (job: pb.Job) => void,
      signal: AbortSignal,
    ): Promise<void> {
      await watchJob(
        { events: deps.events, get: (id) => service.get(id) },
        jobIdOf(req),
        (job) => send(toJobMessage(job)),
        signal,
        (job) => void requireJobInScope(principal, job),
      );
    },
  };
}

function toScheduleMessage(s: ScheduleView): pb.Schedule {
  return {
    name: s.name,
    source: s.source,
    cron: s.definition.cron,
    timezone: s.definition.timezone ?? '',
    type: s.definition.submit.type,
    paused: s.paused,
    ...(s.nextRunAt === null ? {} : { nextRunAtMs: s.nextRunAt }),
    ...(s.lastRun ? { lastRunAtMs: s.lastRun.at } : {}),
    lastJobId: s.lastRun?.jobId ?? '',
    definitionJson: JSON.stringify(s.definition),
  };
}
