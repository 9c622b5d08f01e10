import type { Readable } from 'node:stream';
import type { Catalog } from './catalog.ts';
import { CsvReader, type CsvRow } from './csv-rows.ts';
import { withTiming, type Timing } from './prepare.ts';
import {
  csvReservedColumns,
  csvReservedProblem,
  splitCsvRecord,
  type CsvReservedColumns,
} from './csv-columns.ts';
import {
  ingest,
  type IngestOptions,
  type IngestService,
  type IngestStore,
  type IngestResult,
  type RowReader,
  type UploadRow,
} from './ingest.ts';

export interface CsvIngestOptions extends IngestOptions {
  /** Every row's type (else the route rules pick one per row) and priority. */
  type?: string | undefined;
  priority?: number | string | undefined;
  /** Every row's due time and expiry (the upload's query). */
  timing?: Timing;
  /** Longest accepted row, in characters. */
  maxRowChars?: number;
}

/**
 * A CSV with a header row (src/jobs/csv-rows.ts) into one job per row, its fields by header name
 * as the payload, but for the reserved `gaffer.` columns (src/jobs/csv-columns.ts: the row's own
 * due time and expiry, over the query's); a row that cannot be read is rejected as
 * GAFFER_CSV_INVALID. An upload that
 * names no type takes the catalog's `uploadType` (`routes.uploadType`), else each row is routed.
 */
export function ingestCsv(
  service: IngestService,
  store: IngestStore,
  input: Readable,
  options: CsvIngestOptions,
): Promise<IngestResult> {
  const type = csvUploadType(service.catalog, options.type);
  return ingest(service, store, input, csvRowReader({ ...options, type }), options);
}

/** The type of a CSV upload's rows: the one given, else `uploadType`; undefined: routed. */
export function csvUploadType(
  catalog: Pick<Catalog, 'uploadType'>,
  given: string | undefined,
): string | undefined {
  return given || catalog.uploadType;
}

function csvRowReader(options: CsvIngestOptions): RowReader {
  const reader = new CsvReader({ maxRowChars: options.maxRowChars ?? 1_000_000 });
  const { type, priority } = options;
  const timing = options.timing ?? {};
  /** The header's reserved columns, read from the first row (every row has the header's names). */
  let reserved: CsvReservedColumns | null | undefined;
  let problem: string | null = null;
  const submission = (row: Extract<CsvRow, { record: unknown }>): UploadRow => {
    if (reserved === undefined) {
      reserved = csvReservedColumns(Object.keys(row.record));
      problem = reserved && csvReservedProblem(reserved);
    }
    const { line, raw } = row;
    if (reserved === null) {
      return { line, raw, submission: { type, priority, payload: row.record, ...timing } };
    }
    if (problem !== null) return { line, raw, code: 'GAFFER_UNKNOWN_FIELD', error: problem };
    const { payload, timing: own } = splitCsvRecord(row.record, reserved);
    return { line, raw, submission: withTiming({ type, priority, payload, ...own }, timing) };
  };
  const rows = (csv: CsvRow[]) =>
    csv.map((row): UploadRow =>
      'record' in row
        ? submission(row)
        : { line: row.line, raw: row.raw, code: 'GAFFER_CSV_INVALID', error: row.error },
    );
  return { push: (text) => rows(reader.push(text)), end: () => rows(reader.end()) };
}
