import type { Timing } from './prepare.ts';

/**
 * A CSV upload's columns are its rows' payload fields, except the reserved ones: a header starting
 * with `gaffer.` (any case) is gaffer's, never a payload field. `gaffer.runAt`, `gaffer.delay`,
 * `gaffer.expiresAt` and `gaffer.expireIn` give the row's own due time and expiry (read as the
 * submission fields of the same names; an empty cell gives none, so the upload's query applies).
 * Any other `gaffer.` column is refused (GAFFER_UNKNOWN_FIELD on every row), so a misspelt one is
 * never silently taken for payload. Pure.
 */
export const CSV_RESERVED_PREFIX = 'gaffer.';

const TIMING_COLUMNS: Readonly<Record<string, keyof Timing>> = {
  'gaffer.runAt': 'runAt',
  'gaffer.delay': 'delay',
  'gaffer.expiresAt': 'expiresAt',
  'gaffer.expireIn': 'expireIn',
};

/** The reserved columns of a header: the timing ones (column → field) and the unknown ones. */
export interface CsvReservedColumns {
  timing: readonly (readonly [column: string, field: keyof Timing])[];
  unknown: readonly string[];
}

/** The header's reserved columns; null when it has none (every column is payload). */
export function csvReservedColumns(header: readonly string[]): CsvReservedColumns | null {
  const reserved = header.filter((name) => name.toLowerCase().startsWith(CSV_RESERVED_PREFIX));
  if (reserved.length === 0) return null;
  const timing: (readonly [string, keyof Timing])[] = [];
  const unknown: string[] = [];
  for (const name of reserved) {
    const field = Object.hasOwn(TIMING_COLUMNS, name) ? TIMING_COLUMNS[name] : undefined;
    if (field) timing.push([name, field]);
    else unknown.push(name);
  }
  return { timing, unknown };
}

/** Why a header's reserved columns cannot be used, or null when they can. */
export function csvReservedProblem(columns: CsvReservedColumns): string | null {
  if (columns.unknown.length === 0) return null;
  const names = columns.unknown.map((n) => JSON.stringify(n)).join(', ');
  return `${names}: columns starting with "${CSV_RESERVED_PREFIX}" are reserved (known: ${Object.keys(TIMING_COLUMNS).join(', ')})`;
}

/** A row split into its payload (the other columns) and its own timing (non-empty cells). */
export function splitCsvRecord(
  record: Record<string, string>,
  columns: CsvReservedColumns,
): { payload: Record<string, string>; timing: Timing } {
  const payload = { ...record };
  const timing: Timing = {};
  for (const [column, field] of columns.timing) {
    const cell = payload[column]!.trim();
    delete payload[column];
    if (cell !== '') timing[field] = cell;
  }
  return { payload, timing };
}
