import type { Job, JobState } from '../domain/job.ts';
import { GafferError } from '../errors.ts';
import type { JobListing } from '../store/roles/job-listing.ts';
import type { JobService } from './service.ts';

export interface RetryFailedReport {
  /** Failed and timed-out jobs requeued. */
  retried: number;
  /** Dead-lettered jobs replayed. */
  replayed: number;
  /** Jobs of types the caller may not act on, left alone. */
  forbidden: number;
  /** Jobs that changed state meanwhile (or could not be requeued), with why. */
  skipped: { id: string; code: string; message: string }[];
}

/**
 * "Retry failed rows" of a batch: its failed and timed-out jobs are retried, its dead-lettered ones
 * replayed; jobs of types `allows` refuses are counted and left alone. Each job is collected before
 * any is acted on (by the (batch, state) index, page by page), so a job that fails again during the
 * call is not picked up twice.
 */
export async function retryFailedRows(
  service: Pick<JobService, 'retry' | 'deadLetters'>,
  store: Pick<JobListing, 'list'>,
  batchId: string,
  allows: (type: string) => boolean,
): Promise<RetryFailedReport> {
  const report: RetryFailedReport = { retried: 0, replayed: 0, forbidden: 0, skipped: [] };
  const allowed = (jobs: Job[]) => {
    const ok = jobs.filter((j) => allows(j.type));
    report.forbidden += jobs.length - ok.length;
    return ok;
  };
  const failed = allowed([
    ...(await inState(store, batchId, 'failed')),
    ...(await inState(store, batchId, 'timed_out')),
  ]);
  const dead = allowed(await inState(store, batchId, 'dead_lettered')).map((j) => j.id);
  for (const job of failed) {
    try {
      await service.retry(job.id);
      report.retried++;
    } catch (err) {
      const g = err instanceof GafferError ? err : new GafferError('GAFFER_INTERNAL', String(err));
      report.skipped.push({ id: job.id, code: g.code, message: g.message });
    }
  }
  if (dead.length) {
    const res = await service.deadLetters.replayMany({ ids: dead, limit: dead.length });
    report.replayed = res.replayed.length;
    report.skipped.push(...res.skipped);
  }
  return report;
}

async function inState(
  store: Pick<JobListing, 'list'>,
  batchId: string,
  state: JobState,
): Promise<Job[]> {
  const out: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ batchId, state, limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.jobs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}
