import { readFile } from 'node:fs/promises';
import { CsvReader } from '../jobs/csv-rows.ts';

/**
 * `--csv FILE`: every row (a header row names the fields) becomes a payload of strings, as
 * POST /v1/batches would make it (the same reader, src/jobs/csv-rows.ts), and job `i` gets row
 * `i mod rows` so a short file can drive a long run. A row the upload would reject is an error here.
 */
export async function csvPayloads(file: string): Promise<(i: number) => unknown> {
  const rows = parseCsv(await readFile(file, 'utf8'), file);
  if (rows.length === 0) throw new Error(`${file} has no data rows (the first row is the header)`);
  return (i) => rows[i % rows.length];
}

function parseCsv(text: string, file: string): Record<string, string>[] {
  const reader = new CsvReader({ maxRowChars: Infinity });
  return [...reader.push(text), ...reader.end()].map((row) => {
    if ('error' in row) throw new Error(`${file}, line ${row.line}: ${row.error}`);
    return row.record;
  });
}
