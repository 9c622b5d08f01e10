import type { JobState } from '../../domain/job.ts';

/**
 * Role: batches — one record per bulk submission (its source, counts, whether it is done) with the
 * rows it refused; a batch's jobs are counted by state from the job rows. Ingest and the batch
 * routes use it.
 */
export interface BatchRecords {
  createBatch(batch: BatchRecord): Promise<void>;
  updateBatch(id: string, patch: Partial<Omit<BatchRecord, 'id'>>): Promise<void>;
  getBatch(id: string): Promise<BatchSummary | undefined>;
  /** Batches newest first, keyset-paged on (createdAt, id), with their job counts. */
  listBatches(filter: { limit: number; cursor?: string }): Promise<BatchPage>;
  addRejectedRows(batchId: string, rows: readonly RejectedRow[]): Promise<void>;
  rejectedRows(batchId: string): Promise<RejectedRow[]>;
}

export interface BatchRecord {
  id: string;
  createdAt: number;
  source: string;
  type: string | null;
  accepted: number;
  rejected: number;
  done: boolean;
}

export interface BatchSummary extends BatchRecord {
  byState: Partial<Record<JobState, number>>;
}

export interface BatchPage {
  batches: BatchSummary[];
  nextCursor: string | null;
}

export interface RejectedRow {
  row: number;
  raw: string;
  code: string;
  message: string;
}
