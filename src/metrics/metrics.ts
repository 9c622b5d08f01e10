import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GafferEvents, WorkerInfo } from '../domain/events.ts';
import type { Throughput } from '../jobs/throughput.ts';
import type { QueueStats } from '../store/job-store.ts';

/**
 * Every metric gaffer serves, defined in one place. Counters follow domain events; gauges are
 * read from the store and the gateway by `refresh()` at scrape time, so they are never stale. Seed 003's names
 * (`job_queue_length`, `worker_pool_size`, `job_processing_rate`) are kept as it wrote them.
 */
export interface MetricsSources {
  queueStats(now: number): Promise<QueueStats[]>;
  workers(): WorkerInfo[];
  now(): number;
  /** Jobs finished per type over the last minute (jobs/throughput.ts). */
  throughput: Pick<Throughput, 'perMinute' | 'types'>;
}

export interface GafferMetrics {
  registry: Registry;
  refresh(): Promise<void>;
}

export function createMetrics(events: GafferEvents, sources: MetricsSources): GafferMetrics {
  const registry = new Registry();
  const submitted = new Counter({
    name: 'gaffer_jobs_submitted_total',
    help: 'Jobs accepted, by type',
    labelNames: ['type'],
    registers: [registry],
  });
  const finished = new Counter({
    name: 'gaffer_jobs_finished_total',
    help: 'Jobs ended, by type and state (succeeded, failed, timed_out, cancelled, dead_lettered)',
    labelNames: ['type', 'state'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'gaffer_job_retries_total',
    help: 'Attempts that failed and were retried, by type and failure class',
    labelNames: ['type', 'class'],
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'gaffer_scaling_decisions_total',
    help: 'Scaling decisions acted on, by type and direction (out, in)',
    labelNames: ['type', 'direction'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gaffer_job_duration_seconds',
    help: 'Run time of ended attempts, by type and state',
    labelNames: ['type', 'state'],
    buckets: [0.005, 0.05, 0.25, 1, 5, 30, 120, 600, 3600],
    registers: [registry],
  });
  const rate = new Gauge({
    name: 'job_processing_rate',
    help: 'Jobs finished per minute over the last minute, by type (seed 003)',
    labelNames: ['type'],
    registers: [registry],
  });

  events.on('job:queued', ({ jobs }) => {
    for (const job of jobs) submitted.inc({ type: job.type });
  });
  const ended = ({
    job,
  }: {
    job: { type: string; state: string; startedAt: number | null; finishedAt: number | null };
  }) => {
    finished.inc({ type: job.type, state: job.state });
    if (job.startedAt !== null && job.finishedAt !== null) {
      duration.observe(
        { type: job.type, state: job.state },
        (job.finishedAt - job.startedAt) / 1000,
      );
    }
  };
  events.on('job:succeeded', ended);
  events.on('job:failed', ended);
  events.on('job:cancelled', ({ job }) => {
    if (job.state === 'cancelled') ended({ job });
  });
  events.on('job:retrying', ({ job, error }) =>
    retries.inc({ type: job.type, class: error.class }),
  );
  events.on('scaler:decision', ({ decision }) =>
    decisions.inc({ type: decision.type, direction: decision.to >= decision.from ? 'out' : 'in' }),
  );

  const queueLength = new Gauge({
    name: 'job_queue_length',
    help: 'Jobs ready to run, by type (seed 003)',
    labelNames: ['type'],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'gaffer_jobs_in_flight',
    help: 'Jobs held by workers, by type',
    labelNames: ['type'],
    registers: [registry],
  });
  const oldest = new Gauge({
    name: 'gaffer_oldest_ready_job_age_seconds',
    help: 'Age of the oldest ready job, by type',
    labelNames: ['type'],
    registers: [registry],
  });
  const pool = new Gauge({
    name: 'worker_pool_size',
    help: 'Workers by type and state (starting, idle, busy, draining) (seed 003)',
    labelNames: ['type', 'state'],
    registers: [registry],
  });

  /** Reads the gauges from the store and the gateway; the /metrics route calls it per scrape. */
  const refresh = async (): Promise<void> => {
    const now = sources.now();
    for (const s of await sources.queueStats(now)) {
      queueLength.set({ type: s.type }, s.ready);
      inFlight.set({ type: s.type }, s.inFlight);
      oldest.set({ type: s.type }, s.oldestReadyAt === null ? 0 : (now - s.oldestReadyAt) / 1000);
    }
    pool.reset();
    for (const w of sources.workers()) pool.inc({ type: w.type, state: w.state });
    rate.reset();
    for (const type of sources.throughput.types()) {
      rate.set({ type }, sources.throughput.perMinute(type));
    }
  };
  return { registry, refresh };
}
