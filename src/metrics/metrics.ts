import { collectDefaultMetrics, Registry } from 'prom-client';
import type { GafferEvents, WorkerInfo } from '../domain/events.ts';
import type { Throughput } from '../jobs/throughput.ts';
import type { JobListing } from '../store/roles/job-listing.ts';
import { countEvents } from './counters.ts';
import { scrapeGauges } from './gauges.ts';
import { sampleTrees, type ProcessSample } from './process.ts';

/**
 * Every metric gaffer serves, defined under this folder and listed in docs/metrics.md. Counters
 * and histograms follow domain events (counters.ts); gauges are read from the store, the gateway
 * and the autoscaler by `refresh()` at scrape time (gauges.ts), so they are never stale; worker
 * processes' CPU and memory are read from /proc at scrape time (process.ts); gaffer's own process
 * metrics come from prom-client's default collectors. Three names have no `gaffer_` prefix
 * (`job_queue_length`, `worker_pool_size`, `job_processing_rate`): they are the names existing
 * dashboards and alerts query, kept as is. Labels are bounded: job
 * type, state, failure class, stage, cause — never a job or worker id.
 */
export interface MetricsSources {
  queueStats: JobListing['queueStats'];
  workers(): WorkerInfo[];
  now(): number;
  /** Jobs finished per type over the last minute (jobs/throughput.ts). */
  throughput: Pick<Throughput, 'perMinute' | 'types'>;
  /** Per type, the autoscaler's latest decision (`to`: workers wanted); empty where it does not run. */
  desired?(): ReadonlyMap<string, { to: number }>;
  /** The configured job types with their timeout. */
  types?(): { name: string; timeoutSeconds: number }[];
  /**
   * Whether a worker is a process on this machine (started by the local executor), so its pid
   * means something here. Absent: none is (Kubernetes pods and remote workers are not).
   */
  isLocal?(worker: WorkerInfo): boolean;
  /**
   * The local executor's capacity (`executor.local`: `cpu` in millicores, `memory` in bytes);
   * null or absent: not a local executor.
   */
  localCapacity?: { cpu: number; memory: number } | null;
  /** Samples each pid's process tree; default: /proc (process.ts). Tests inject. */
  sampleTrees?(roots: readonly number[]): Map<number, ProcessSample>;
}

const NONCONVENTIONAL_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface GafferMetrics {
  registry: Registry;
  refresh(): Promise<void>;
}

export function createMetrics(events: GafferEvents, sources: MetricsSources): GafferMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names three gauges `…_total`, which Prometheus reserves for counters (promtool
  // check metrics refuses them); their per-type twins (`nodejs_active_handles{type}`, …) remain.
  for (const name of NONCONVENTIONAL_DEFAULTS) registry.removeSingleMetric(name);
  const counters = countEvents(events, registry, sources.now);
  const refresh = scrapeGauges(registry, {
    ...sources,
    sampleTrees: sources.sampleTrees ?? sampleTrees,
    initType: counters.initType,
  });
  return { registry, refresh };
}
