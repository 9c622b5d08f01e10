import type { Job } from '../domain/job.ts';
import type { JobListing } from '../store/roles/job-listing.ts';

/**
 * Invariant 4 in broker mode: a job whose message went missing (a retry timer lost with the
 * replica that set it, a broker that lost data, a message dead-lettered by the broker's own
 * delivery limit) must still run. The store is the truth, so the check compares it with the
 * broker: every due queued job should have a ready message. When the broker holds fewer ready
 * messages for a type than the store holds due jobs, the difference is published again — oldest
 * first, since in a FIFO queue the messages still present are the newer ones — and only jobs due
 * for at least `graceMs`, so a job between its commit and its publish is not taken for a lost one,
 * and only those `startable` (a job parked while its key is full has no message on purpose).
 *
 * A surplus is harmless (a message for a job that is not queued is refused and spent), so the
 * estimate may err high; it never publishes more than the deficit, which bounds duplicates.
 */
export interface RepublishDeps {
  store: Pick<JobListing, 'queueStats' | 'readyJobs'>;
  /** The queue of a configured type; undefined for a type no longer configured. */
  queueOf(type: string): string | undefined;
  brokerReady(queue: string): Promise<number>;
  publish(jobs: readonly Job[]): Promise<void>;
  /**
   * Of a type's candidates, those that may be published: not a job whose key is full while its
   * type parks such deliveries (jobs/key-parking.ts). Absent: all.
   */
  startable?(type: string, jobs: readonly Job[]): Promise<Job[]>;
}

/** Returns how many jobs were published again. */
export async function republishMissing(d: RepublishDeps, now: number, graceMs: number) {
  let sent = 0;
  for (const stats of await d.store.queueStats(now)) {
    const queue = d.queueOf(stats.type);
    if (queue === undefined || stats.ready === 0) continue;
    const missing = stats.ready - (await d.brokerReady(queue));
    if (missing <= 0) continue;
    const ready = await d.store.readyJobs(stats.type, now - graceMs, missing);
    const jobs = d.startable ? await d.startable(stats.type, ready) : ready;
    await d.publish(jobs);
    sent += jobs.length;
  }
  return sent;
}
