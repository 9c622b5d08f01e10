import type { JobStore } from '../store/job-store.ts';
import type { WorkerInfo } from '../domain/events.ts';
import { emptyWorkers, type ReadState, type WorkerCounts } from './sampler.ts';

/** One history sample's reading: per configured type, ready, in flight and workers by state. */
export function readHistoryState(d: {
  store: Pick<JobStore, 'queueStats'>;
  types(): string[];
  workers(type: string): WorkerInfo[];
}): ReadState {
  return async (now) => {
    const stats = new Map((await d.store.queueStats(now)).map((s) => [s.type, s]));
    const out: Record<string, { ready: number; inFlight: number; workers: WorkerCounts }> = {};
    for (const type of d.types()) {
      const workers = emptyWorkers();
      for (const w of d.workers(type)) if (w.state !== 'stopped') workers[w.state]++;
      const s = stats.get(type);
      out[type] = { ready: s?.ready ?? 0, inFlight: s?.inFlight ?? 0, workers };
    }
    return out;
  };
}
