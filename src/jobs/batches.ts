import type { Readable } from 'node:stream';
import type { Clock } from '../domain/clock.ts';
import type { GafferEvents } from '../domain/events.ts';
import type { Job } from '../domain/job.ts';
import { GafferError } from '../errors.ts';
import type {
  BatchPage,
  BatchRecords,
  BatchSummary,
  RejectedRow,
} from '../store/roles/batch-records.ts';
import type { JobListing } from '../store/roles/job-listing.ts';
import { retryFailedRows, type RetryFailedReport } from './batch-retry.ts';
import { csvUploadType, ingestCsv, type CsvIngestOptions } from './csv-ingest.ts';
import { ingest, type IngestResult, type RowReader } from './ingest.ts';
import type { Submission } from './prepare.ts';
import type { JobService, RejectedSubmission, Submitter, TypeScope } from './service.ts';

export type { RetryFailedReport } from './batch-retry.ts';
export type { IngestResult, RowReader } from './ingest.ts';

export interface BatchServiceOptions {
  service: Pick<JobService, 'submitMany' | 'retry' | 'deadLetters' | 'catalog'>;
  store: BatchRecords & Pick<JobListing, 'list'>;
  clock: Clock;
  events: GafferEvents;
}

/** A batch of submissions as a front end read them: an item it could not read is its error. */
export type BatchItem = Submission | GafferError;

export interface SubmittedBatch {
  batchId: string;
  accepted: Job[];
  /** Refused items by their index in the batch, with a stable code. */
  rejected: RejectedSubmission[];
}

/** Options of a rows' read into a batch (a CSV, NDJSON): who uploads, how much may be read. */
export interface RowsOptions {
  by?: Submitter | undefined;
  maxBytes?: number;
}

/**
 * Batches: jobs submitted together (a JSON batch, a CSV or NDJSON upload), counted and kept with
 * their rejected rows, and retried together. Every front end (HTTP, gRPC, the library) goes
 * through here, so each records a batch the same way. Scope is the caller's: a type scope is
 * passed in (`Submitter.allows`, `allows`), never decided here.
 */
export class BatchService {
  readonly #o: BatchServiceOptions;

  constructor(options: BatchServiceOptions) {
    this.#o = options;
  }

  /** A new, empty batch labelled with where it came from and the one type of its rows (or null). */
  async create(source: string, type: string | null): Promise<string> {
    const id = `batch-${crypto.randomUUID().slice(0, 12)}`;
    await this.#o.store.createBatch({
      id,
      createdAt: this.#o.clock.now(),
      source,
      type,
      accepted: 0,
      rejected: 0,
      done: false,
    });
    return id;
  }

  /**
   * A batch of submissions committed together (`JobService.submitMany`): every valid item is
   * accepted, every other reported by its index; the batch records the counts and is done.
   * `type`: the batch's label (its items' type, when given for all).
   */
  async submit(
    items: readonly BatchItem[],
    options: { source: string; type?: string | null | undefined; by?: Submitter | undefined },
  ): Promise<SubmittedBatch> {
    const batchId = await this.create(options.source, options.type ?? null);
    const rejected: RejectedSubmission[] = [];
    const subs: Submission[] = [];
    const indexOf: number[] = [];
    items.forEach((item, index) => {
      if (item instanceof GafferError) {
        rejected.push({ index, code: item.code, message: item.message });
      } else {
        subs.push(item);
        indexOf.push(index);
      }
    });
    const done =
      subs.length > 0
        ? await this.#o.service.submitMany(subs, batchId, 0, options.by)
        : { accepted: [], rejected: [] };
    for (const r of done.rejected) rejected.push({ ...r, index: indexOf[r.index]! });
    rejected.sort((a, b) => a.index - b.index);
    await this.#o.store.updateBatch(batchId, {
      accepted: done.accepted.length,
      rejected: rejected.length,
      done: true,
    });
    return { batchId, accepted: done.accepted, rejected };
  }

  /**
   * An upload's lifecycle: the batch is created, `read` streams the rows into it (`ingest`,
   * `ingestCsv`), and it is marked done whatever happened — a failure part way keeps the rows
   * committed before it, and is thrown as `failure` maps it. Resolves with the batch and the read.
   */
  async upload(
    source: string,
    type: string | null,
    read: (batchId: string) => Promise<IngestResult>,
    failure: (err: unknown, batchId: string) => unknown = (err) => err,
  ): Promise<{ batch: BatchSummary; result: IngestResult }> {
    const batchId = await this.create(source, type);
    let result;
    try {
      result = await read(batchId);
    } catch (err) {
      await this.#o.store.updateBatch(batchId, { done: true });
      throw failure(err, batchId);
    }
    await this.#o.store.updateBatch(batchId, { done: true });
    const batch = (await this.#o.store.getBatch(batchId))!;
    this.#o.events.emit('batch:progress', { batchId });
    return { batch, result };
  }

  /** Rows read by `reader` (NDJSON, …) into the batch, in committed chunks (jobs/ingest.ts). */
  ingest(
    batchId: string,
    input: Readable,
    reader: RowReader,
    options: RowsOptions = {},
  ): Promise<IngestResult> {
    return ingest(this.#o.service, this.#o.store, input, reader, { ...options, batchId });
  }

  /** A CSV into the batch, one job per row (jobs/csv-ingest.ts). */
  ingestCsv(
    batchId: string,
    input: Readable,
    options: Omit<CsvIngestOptions, 'batchId'> = {},
  ): Promise<IngestResult> {
    return ingestCsv(this.#o.service, this.#o.store, input, { ...options, batchId });
  }

  /** The type of a CSV upload's rows: the one given, else `routes.uploadType`; else routed. */
  csvType(given: string | undefined): string | undefined {
    return csvUploadType(this.#o.service.catalog, given);
  }

  /** The batch with its counts; GAFFER_BATCH_NOT_FOUND for an unknown id. */
  async get(id: string): Promise<BatchSummary> {
    const batch = await this.#o.store.getBatch(id);
    if (!batch) throw new GafferError('GAFFER_BATCH_NOT_FOUND', id);
    return batch;
  }

  /** Batches newest first, `limit` a page; `nextCursor` pages on. */
  list(filter: { limit: number; cursor?: string | undefined }): Promise<BatchPage> {
    return this.#o.store.listBatches({
      limit: filter.limit,
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
    });
  }

  /** The rows of the batch that could not be jobs, by line; GAFFER_BATCH_NOT_FOUND if unknown. */
  async rejectedRows(id: string): Promise<RejectedRow[]> {
    await this.get(id);
    return this.#o.store.rejectedRows(id);
  }

  /**
   * "Retry failed rows": the batch's failed and timed-out jobs retried, its dead-lettered ones
   * replayed; jobs of types `allows` refuses are counted and left alone (jobs/batch-retry.ts).
   */
  async retryFailed(id: string, allows: TypeScope = () => true): Promise<RetryFailedReport> {
    await this.get(id);
    return retryFailedRows(this.#o.service, this.#o.store, id, allows);
  }
}
