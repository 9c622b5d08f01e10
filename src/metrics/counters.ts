import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { GafferEvents } from '../domain/events.ts';
import { TERMINAL_STATES, type Job } from '../domain/job.ts';

const SECONDS_BUCKETS = [0.005, 0.05, 0.25, 1, 5, 30, 120, 600, 3600];
/** Attempts whose start was observed, so a start announced twice is timed once. */
const MAX_TRACKED_STARTS = 100_000;

export interface EventCounters {
  /**
   * Creates the type's counter series at 0, so the first failure, dead letter or crash is an
   * increase Prometheus sees (a series born at 1 shows no increase).
   */
  initType(type: string): void;
}

/**
 * The metrics driven by domain events: one listener per event, each a counter or histogram
 * update. Pure bookkeeping; `now` is gaffer's clock (ms).
 */
export function countEvents(
  events: GafferEvents,
  registry: Registry,
  now: () => number,
): EventCounters {
  const registers = [registry];
  const submitted = new Counter({
    name: 'gaffer_jobs_submitted_total',
    help: 'Jobs accepted, by type',
    labelNames: ['type'],
    registers,
  });
  const finished = new Counter({
    name: 'gaffer_jobs_finished_total',
    help: 'Jobs ended, by type and state (succeeded, failed, timed_out, cancelled, dead_lettered, expired)',
    labelNames: ['type', 'state'],
    registers,
  });
  const retries = new Counter({
    name: 'gaffer_job_retries_total',
    help: 'Attempts that failed and were retried, by type and failure class',
    labelNames: ['type', 'class'],
    registers,
  });
  const redeliveries = new Counter({
    name: 'gaffer_job_redeliveries_total',
    help: 'Jobs queued again after their attempt was abandoned, by type and cause (worker_lost, lease_expired, gaffer_restarted, gaffer_stopped)',
    labelNames: ['type', 'cause'],
    registers,
  });
  const decisions = new Counter({
    name: 'gaffer_scaling_decisions_total',
    help: 'Scaling decisions acted on, by type and direction (out, in)',
    labelNames: ['type', 'direction'],
    registers,
  });
  const scalerErrors = new Counter({
    name: 'gaffer_scaler_errors_total',
    help: 'Autoscaler failures, by stage (tick, start, stop) and type (empty for a whole tick)',
    labelNames: ['stage', 'type'],
    registers,
  });
  const exits = new Counter({
    name: 'gaffer_worker_exits_total',
    help: 'Workers gone, by type and outcome (clean: stopped as asked; crashed: anything else)',
    labelNames: ['type', 'outcome'],
    registers,
  });
  const duration = new Histogram({
    name: 'gaffer_job_duration_seconds',
    help: 'Run time of ended attempts, by type and state',
    labelNames: ['type', 'state'],
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const wait = new Histogram({
    name: 'gaffer_job_queue_wait_seconds',
    help: 'Time from when a job was due (submitted, or its retry fell due) to its attempt starting, by type',
    labelNames: ['type'],
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const lastAttemptEnd = new Gauge({
    name: 'gaffer_last_attempt_end_timestamp_seconds',
    help: 'When an attempt of the type last ended (or gaffer started, if none has), by type',
    labelNames: ['type'],
    registers,
  });

  const startedAt = now();
  const endedTypes = new Set<string>();
  const attemptEnded = (job: Job, at: number) => {
    endedTypes.add(job.type);
    lastAttemptEnd.set({ type: job.type }, at / 1000);
  };
  const ended = ({ job }: { job: Job }) => {
    forgetStart(job);
    attemptEnded(job, job.finishedAt ?? now());
    finished.inc({ type: job.type, state: job.state });
    if (job.startedAt !== null && job.finishedAt !== null) {
      duration.observe(
        { type: job.type, state: job.state },
        (job.finishedAt - job.startedAt) / 1000,
      );
    }
  };

  // A pool worker's attempt is announced at claim and again when its worker reports it started:
  // the wait is observed once per (job, attempt). Entries leave when the attempt ends.
  const started = new Map<string, number>();
  const forgetStart = (job: Job) => started.delete(job.id);
  events.on('job:started', ({ job }) => {
    if (started.get(job.id) === job.attempt) return;
    if (started.size >= MAX_TRACKED_STARTS) started.clear(); // a leak guard, never hit in practice
    started.set(job.id, job.attempt);
    const since = job.startedAt ?? now();
    wait.observe({ type: job.type }, Math.max(0, since - job.runAt) / 1000);
  });
  events.on('job:queued', ({ jobs }) => {
    for (const job of jobs) submitted.inc({ type: job.type });
  });
  events.on('job:succeeded', ended);
  events.on('job:failed', ended);
  events.on('job:expired', ended);
  events.on('job:cancelled', ({ job }) => {
    if (job.state === 'cancelled') ended({ job });
  });
  events.on('job:retrying', ({ job, error }) => {
    forgetStart(job);
    attemptEnded(job, now());
    // A snooze is queued again like a retry, but nothing failed: no class's retry.
    if (error.snoozedMs === undefined) retries.inc({ type: job.type, class: error.class });
  });
  events.on('job:redelivered', ({ job, cause }) => redeliveries.inc({ type: job.type, cause }));
  events.on('scaler:decision', ({ decision }) =>
    decisions.inc({ type: decision.type, direction: decision.to >= decision.from ? 'out' : 'in' }),
  );
  events.on('scaler:error', ({ stage, type }) => scalerErrors.inc({ stage, type: type ?? '' }));
  events.on('worker:stopped', ({ worker, clean }) =>
    exits.inc({ type: worker.type, outcome: clean ? 'clean' : 'crashed' }),
  );

  const initType = (type: string) => {
    for (const state of TERMINAL_STATES) finished.inc({ type, state }, 0);
    for (const outcome of ['clean', 'crashed']) exits.inc({ type, outcome }, 0);
    submitted.inc({ type }, 0);
    if (!endedTypes.has(type)) lastAttemptEnd.set({ type }, startedAt / 1000);
  };
  return { initType };
}
