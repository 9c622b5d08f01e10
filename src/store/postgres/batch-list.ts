import type pg from 'pg';
import type { JobState } from '../../domain/job.ts';
import { countByState } from '../codec.ts';
import type { BatchPage, BatchSummary } from '../roles/batch-records.ts';
import { decodeCursor, encodeCursor } from '../paging.ts';
import { rows, snapshot } from './db.ts';

interface Row {
  id: string;
  created_at: number;
  source: string;
  type: string | null;
  accepted: number;
  rejected: number;
  done: boolean;
}

/** As the SQLite store's listBatches: newest first, keyset-paged, with job counts by state. */
export async function listBatches(
  pool: pg.Pool,
  filter: { limit: number; cursor?: string },
): Promise<BatchPage> {
  const limit = Math.min(Math.max(Math.trunc(filter.limit), 1), 200);
  const params: unknown[] = [];
  let where = '';
  if (filter.cursor !== undefined) {
    const [createdAt, id] = decodeCursor(filter.cursor);
    where = 'WHERE (created_at, id) < ($1, $2)';
    params.push(createdAt, id);
  }
  return snapshot(pool, async (c) => {
    const found = await rows<Row>(
      c,
      `SELECT * FROM batches ${where} ORDER BY created_at DESC, id DESC
        LIMIT $${params.length + 1}`,
      [...params, limit + 1],
    );
    const page = found.slice(0, limit);
    const counts = page.length
      ? await rows<{ batch_id: string; state: JobState; n: number }>(
          c,
          `SELECT batch_id, state, count(*)::int AS n FROM jobs
            WHERE batch_id = ANY($1) GROUP BY batch_id, state`,
          [page.map((r) => r.id)],
        )
      : [];
    const batches: BatchSummary[] = page.map((r) => ({
      id: r.id,
      createdAt: Number(r.created_at),
      source: r.source,
      type: r.type,
      accepted: r.accepted,
      rejected: r.rejected,
      done: r.done,
      byState: countByState(counts.filter((x) => x.batch_id === r.id)),
    }));
    const last = page.at(-1);
    return {
      batches,
      nextCursor:
        found.length > limit && last ? encodeCursor(Number(last.created_at), last.id) : null,
    };
  });
}
