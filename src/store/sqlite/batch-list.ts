import type { SQLInputValue } from 'node:sqlite';
import type { JobState } from '../../domain/job.ts';
import { countByState } from '../codec.ts';
import type { BatchPage, BatchSummary } from '../roles/batch-records.ts';
import { decodeCursor, encodeCursor } from '../paging.ts';
import type { Statements } from './statements.ts';

interface Row {
  id: string;
  created_at: number;
  source: string;
  type: string | null;
  accepted: number;
  rejected: number;
  done: number;
}

/**
 * Batches newest first, keyset-paged on (created_at, id) like jobs (batches_created, migration 5),
 * each with its job counts by state (jobs_batch, index only). One snapshot.
 */
export function listBatches(s: Statements, filter: { limit: number; cursor?: string }): BatchPage {
  const limit = Math.min(Math.max(Math.trunc(filter.limit), 1), 200);
  const params: SQLInputValue[] = [];
  let where = '';
  if (filter.cursor !== undefined) {
    where = 'WHERE (created_at, id) < (?, ?)';
    params.push(...decodeCursor(filter.cursor));
  }
  return s.snapshot(() => {
    const rows = s.all<Row>(
      `SELECT * FROM batches ${where} ORDER BY created_at DESC, id DESC LIMIT ?`,
      ...params,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const counts = page.length
      ? s.all<{ batch_id: string; state: JobState; n: number }>(
          `SELECT batch_id, state, count(*) AS n FROM jobs
            WHERE batch_id IN (${page.map(() => '?').join(', ')}) GROUP BY batch_id, state`,
          ...page.map((r) => r.id),
        )
      : [];
    const batches: BatchSummary[] = page.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      source: r.source,
      type: r.type,
      accepted: r.accepted,
      rejected: r.rejected,
      done: r.done !== 0,
      byState: countByState(counts.filter((c) => c.batch_id === r.id)),
    }));
    const last = page.at(-1);
    return {
      batches,
      nextCursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
    };
  });
}
