import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkerInfo } from '../domain/events.ts';
import type { MetricsSources } from './metrics.ts';
import type { ProcessSample } from './process.ts';

interface GaugeSources extends MetricsSources {
  sampleTrees(roots: readonly number[]): Map<number, ProcessSample>;
  /** Creates a type's counter series at 0 (counters.ts). */
  initType(type: string): void;
}

/**
 * The metrics read at scrape time: queue and worker gauges from the store, the gateway and the
 * autoscaler, and local workers' CPU and memory. Returns `refresh`, which the /metrics route
 * awaits before it renders the registry. Each gauge family is reset and set in one synchronous
 * step after the only await, so a type that went away leaves no stale series.
 */
export function scrapeGauges(registry: Registry, src: GaugeSources): () => Promise<void> {
  const registers = [registry];
  const byType = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['type'], registers });
  const queueLength = byType('job_queue_length', 'Jobs ready to run, by type');
  const inFlight = byType('gaffer_jobs_in_flight', 'Jobs held by workers, by type');
  const oldest = byType(
    'gaffer_oldest_ready_job_age_seconds',
    'Age of the oldest ready job, by type (0: none ready)',
  );
  const deadLettered = byType(
    'gaffer_jobs_dead_lettered',
    'Jobs in the dead-letter queue now (state dead_lettered), by type',
  );
  const rate = byType(
    'job_processing_rate',
    'Jobs finished per minute over the last minute, by type',
  );
  const desired = byType(
    'gaffer_workers_desired',
    "Workers the autoscaler's latest decision wants, by type (served by the replica that scales)",
  );
  const timeout = byType('gaffer_job_timeout_seconds', "The type's configured job timeout");
  const pool = new Gauge({
    name: 'worker_pool_size',
    help: 'Workers by type and state (starting, idle, busy, draining)',
    labelNames: ['type', 'state'],
    registers,
  });
  const processes = createProcessMetrics(registry, src);

  return async () => {
    const now = src.now();
    const stats = await src.queueStats(now);
    const types = src.types?.() ?? [];
    for (const family of [queueLength, inFlight, oldest, deadLettered, rate, desired, timeout]) {
      family.reset();
    }
    for (const t of types) {
      src.initType(t.name);
      timeout.set({ type: t.name }, t.timeoutSeconds);
      for (const g of [queueLength, inFlight, oldest, deadLettered]) g.set({ type: t.name }, 0);
    }
    for (const s of stats) {
      queueLength.set({ type: s.type }, s.ready);
      inFlight.set({ type: s.type }, s.inFlight);
      oldest.set({ type: s.type }, s.oldestReadyAt === null ? 0 : (now - s.oldestReadyAt) / 1000);
      deadLettered.set({ type: s.type }, s.byState.dead_lettered ?? 0);
    }
    for (const type of src.throughput.types()) {
      rate.set({ type }, src.throughput.perMinute(type));
    }
    for (const [type, d] of src.desired?.() ?? []) desired.set({ type }, d.to);
    const workers = src.workers();
    pool.reset();
    for (const w of workers) pool.inc({ type: w.type, state: w.state });
    processes.refresh(workers);
  };
}

/**
 * Local workers' CPU (a counter: the CPU each worker's tree used between two scrapes, summed per
 * type) and memory (a gauge: the trees' resident memory now), with how many workers were
 * measured, and the local executor's capacity to compare them with.
 */
function createProcessMetrics(registry: Registry, src: GaugeSources) {
  const registers = [registry];
  const cpu = new Counter({
    name: 'gaffer_worker_cpu_seconds_total',
    help: 'CPU time used by local worker processes and the jobs they run, by type',
    labelNames: ['type'],
    registers,
  });
  const memory = new Gauge({
    name: 'gaffer_worker_resident_memory_bytes',
    help: 'Resident memory of local worker processes and the jobs they run, by type',
    labelNames: ['type'],
    registers,
  });
  const measured = new Gauge({
    name: 'gaffer_worker_processes_measured',
    help: 'Local worker processes whose CPU and memory were read at this scrape, by type',
    labelNames: ['type'],
    registers,
  });
  const capacity = src.localCapacity;
  if (capacity) {
    new Gauge({
      name: 'gaffer_local_capacity_cpu_cores',
      help: "CPUs the local executor may use (executor.local.cpus, or the machine's)",
      registers,
    }).set(capacity.cpu / 1000);
    new Gauge({
      name: 'gaffer_local_capacity_memory_bytes',
      help: "Memory the local executor may use (executor.local.memory, or the machine's)",
      registers,
    }).set(capacity.memory);
  }
  /** Per worker id, the pid and CPU seconds seen at the last scrape. */
  const last = new Map<string, { pid: number; cpuSeconds: number }>();

  const refresh = (workers: readonly WorkerInfo[]) => {
    const local = workers.filter((w) => w.pid !== null && w.pid > 0 && src.isLocal?.(w));
    const samples = src.sampleTrees(local.map((w) => w.pid!));
    memory.reset();
    measured.reset();
    const seen = new Set<string>();
    for (const w of local) {
      const sample = samples.get(w.pid!);
      if (!sample) continue;
      seen.add(w.id);
      const before = last.get(w.id);
      // First sight (or a new process under the same id): all of its CPU is new.
      const base = before?.pid === w.pid ? before.cpuSeconds : 0;
      cpu.inc({ type: w.type }, Math.max(0, sample.cpuSeconds - base));
      last.set(w.id, { pid: w.pid!, cpuSeconds: Math.max(base, sample.cpuSeconds) });
      memory.inc({ type: w.type }, sample.rssBytes);
      measured.inc({ type: w.type });
    }
    for (const id of last.keys()) if (!seen.has(id)) last.delete(id);
  };
  return { refresh };
}
