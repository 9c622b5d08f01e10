import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

/**
 * `--csv FILE`: every row (a header row names the fields) becomes a payload of strings, as
 * POST /v1/batches would make it (src/jobs/csv-ingest.ts: same csv-parse options), and job `i`
 * gets row `i mod rows` so a short file can drive a long run.
 */
export async function csvPayloads(file: string): Promise<(i: number) => unknown> {
  const rows = parseCsv(await readFile(file, 'utf8'));
  if (rows.length === 0) throw new Error(`${file} has no data rows (the first row is the header)`);
  return (i) => rows[i % rows.length];
}

export function parseCsv(text: string): Record<string, string>[] {
  return parse(text, { columns: true, bom: true, skip_empty_lines: true }) as Record<
    string,
    string
  >[];
}
