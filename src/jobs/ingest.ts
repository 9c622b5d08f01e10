import type { Readable } from 'node:stream';
import { GafferError } from '../errors.ts';
import type { BatchRecords, RejectedRow } from '../store/roles/batch-records.ts';
import type { JobService, Submitter } from './service.ts';
import type { Submission } from './prepare.ts';

/**
 * A row of an upload, by the line it starts on: a job to submit, or why the row cannot be one
 * (`code` from the error catalogue). `raw` is its text as read, kept for a rejected row.
 */
export type UploadRow =
  | { line: number; raw: string; submission: Submission }
  | { line: number; raw: string; code: string; error: string };

/** Turns an upload's text, pushed in pieces of any size, into rows (a CSV, NDJSON). */
export interface RowReader {
  /** Takes the next piece of the text; returns the rows it completed. */
  push(text: string): UploadRow[];
  /** The end of the text: the rows still held. */
  end(): UploadRow[];
}

/** What an ingest needs of the job service: its submissions and the catalog in force. */
export type IngestService = Pick<JobService, 'submitMany' | 'catalog'>;
/** Where an upload records its rejected rows and its batch's counts. */
export type IngestStore = Pick<BatchRecords, 'addRejectedRows' | 'updateBatch'>;

export interface IngestOptions {
  batchId: string;
  /** Rows committed per group (default 1,000); bounds memory whatever the upload's size. */
  chunkRows?: number;
  /**
   * The uploader: its type scope (a row routed to another type is rejected, GAFFER_FORBIDDEN) and
   * the scope of its rows' idempotency keys. Absent: the anonymous submitter.
   */
  by?: Submitter | undefined;
  /** Bytes read at most; past it the upload fails with GAFFER_BODY_TOO_LARGE. */
  maxBytes?: number;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  /** The first rejected rows, for the answer; all of them are in the store. */
  firstRejected: RejectedRow[];
}

/**
 * Streams an upload into one job per row: read, validated and committed in chunks, so a
 * million-row upload holds only one chunk in memory. A row that cannot be read or fails its
 * type's payload schema is recorded as rejected with its line number; the rest go on. Bytes that
 * are not UTF-8 fail the upload (the rows committed before stay, counted in the batch). An upload
 * none of whose rows could be given a type (each GAFFER_NO_ROUTE) fails with
 * GAFFER_UPLOAD_NO_TYPE, listing the types: the uploader forgot to name one, and a success answer
 * would hide it. Its batch stays, with every row in its rejected rows.
 */
export async function ingest(
  service: IngestService,
  store: IngestStore,
  input: Readable,
  reader: RowReader,
  options: IngestOptions,
): Promise<IngestResult> {
  // 1,000 rows (was 2,000): fewer rows outlive a young-generation GC while their chunk is parsed,
  // validated and committed, so less is promoted to the old space. Measured on 1,000,000-row
  // uploads: 2,000 peaked at 267–271 MB RSS, 1,000 and 500 at ~251 MB; 500 was ~10% slower
  // (each commit rewrites the indexes' edge pages), 1,000 as fast as 2,000.
  const chunkRows = options.chunkRows ?? 1000;
  const result: IngestResult = { accepted: 0, rejected: 0, firstRejected: [] };
  const tally: Tally = { result, writtenAt: performance.now(), noRoute: 0 };
  // fatal: the default decoder would turn bad bytes into U+FFFD and a job would carry the mangled text.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  const decode = (bytes?: Buffer) => {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch {
      throw new Error(`the file is not valid UTF-8 (in the bytes after ${offset})`);
    }
  };

  let chunk: UploadRow[] = [];
  const take = async (rows: UploadRow[]) => {
    for (const row of rows) {
      chunk.push(row);
      if (chunk.length >= chunkRows) {
        await commitChunk(service, store, options, chunk, tally);
        chunk = [];
      }
    }
  };
  try {
    // The async iterator, not pipe(): the upload's stream may have failed (a multipart body cut
    // off) before it gets here, and the iterator then throws at once instead of waiting.
    let overLimit = false;
    for await (const bytes of input as AsyncIterable<Buffer>) {
      // The rows that end before the limit are committed; the upload then fails.
      const room = (options.maxBytes ?? Infinity) - offset;
      const within = bytes.length > room ? bytes.subarray(0, room) : bytes;
      const text = decode(within);
      offset += within.length;
      await take(reader.push(text));
      overLimit = within !== bytes;
      if (overLimit) break;
    }
    if (!overLimit) {
      await take(reader.push(decode()));
      await take(reader.end());
    }
    if (chunk.length) await commitChunk(service, store, options, chunk, tally);
    if (overLimit) {
      throw new GafferError(
        'GAFFER_BODY_TOO_LARGE',
        `over ${options.maxBytes} bytes; the rows before the limit were kept in batch ${options.batchId}`,
        { details: { batchId: options.batchId } },
      );
    }
  } catch (err) {
    // The batch's counters include every chunk committed before the failure; the failure is the
    // answer even if writing them fails too.
    await writeCounts(store, options, tally).catch(() => {});
    throw err;
  }
  await writeCounts(store, options, tally);
  if (result.accepted === 0 && result.rejected > 0 && tally.noRoute === result.rejected) {
    throw noTypeError(service.catalog.names(), options.batchId, result.rejected);
  }
  return result;
}

function noTypeError(known: string[], batchId: string, rows: number): GafferError {
  return new GafferError(
    'GAFFER_UPLOAD_NO_TYPE',
    `the types are ${known.join(', ') || 'none'}; batch ${batchId} keeps the ${rows} rejected rows`,
    { details: { batchId, rejected: rows, known } },
  );
}

/** The counts so far, and when they were last written to the batch. */
interface Tally {
  result: IngestResult;
  writtenAt: number;
  /** Rows rejected because no type could be chosen (GAFFER_NO_ROUTE). */
  noRoute: number;
}

/**
 * How often the batch's counters are written during an upload (progress for watchers), besides
 * once at the end. Written per chunk they were a second transaction, and a second fsync, per 1,000
 * rows.
 */
const COUNTS_EVERY_MS = 500;

async function commitChunk(
  service: IngestService,
  store: IngestStore,
  options: IngestOptions,
  chunk: readonly UploadRow[],
  tally: Tally,
): Promise<void> {
  const subs: Submission[] = [];
  const parsed: Extract<UploadRow, { submission: Submission }>[] = [];
  const rows: RejectedRow[] = [];
  for (const row of chunk) {
    if ('submission' in row) {
      subs.push(row.submission);
      parsed.push(row);
    } else {
      rows.push({ row: row.line, raw: clip(row.raw), code: row.code, message: row.error });
    }
  }
  const { accepted, rejected } = subs.length
    ? await service.submitMany(subs, options.batchId, 0, options.by)
    : { accepted: [], rejected: [] };
  for (const r of rejected) {
    if (r.code === 'GAFFER_NO_ROUTE') tally.noRoute++;
    const row = parsed[r.index]!;
    rows.push({ row: row.line, raw: clip(row.raw), code: r.code, message: r.message });
  }
  rows.sort((a, b) => a.row - b.row);
  const { result } = tally;
  result.accepted += accepted.length;
  result.rejected += rows.length;
  if (rows.length) {
    await store.addRejectedRows(options.batchId, rows);
    result.firstRejected.push(...rows.slice(0, Math.max(0, 100 - result.firstRejected.length)));
  }
  if (performance.now() - tally.writtenAt >= COUNTS_EVERY_MS) {
    await writeCounts(store, options, tally);
  }
}

/** A rejected row's text as stored: at most 1,000 characters, no line break at the end. */
function clip(raw: string): string {
  return raw.slice(0, 1000).trimEnd();
}

async function writeCounts(
  store: IngestStore,
  options: IngestOptions,
  tally: Tally,
): Promise<void> {
  tally.writtenAt = performance.now();
  await store.updateBatch(options.batchId, {
    accepted: tally.result.accepted,
    rejected: tally.result.rejected,
  });
}
