import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { contextOf, InvalidArgument, parseIntOption, UsageError } from '../context.ts';

/**
 * A test data generator: a CSV of fake customer transactions (the columns and values
 * `python data/generate_data.py` writes), one job per row once uploaded. Deterministic for a given seed, and streamed, so a
 * million rows take constant memory.
 */

export const CSV_HEADER = ['id', 'name', 'email', 'amount', 'currency', 'country', 'created_at'];

const FIRST = [
  'Ada',
  'Alan',
  'Grace',
  'Linus',
  'Margaret',
  'Ken',
  'Barbara',
  'Dennis',
  'Frances',
  'Edsger',
  'Radia',
  'John',
  'Katherine',
  'Tim',
  'Hedy',
  'Niklaus',
];
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Thompson',
  'Liskov',
  'Ritchie',
  'Allen',
  'Dijkstra',
  'Perlman',
  'McCarthy',
  'Johnson',
  'Berners-Lee',
  'Lamarr',
  'Wirth',
];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'SEK'];
const COUNTRIES = ['DE', 'FR', 'NL', 'US', 'GB', 'CH', 'SE', 'ES', 'IT', 'PL'];
const DOMAINS = ['example.com', 'example.org', 'example.net'];
/** 2024-01-01T00:00:00Z: rows are spread over the following year. */
const EPOCH = Date.UTC(2024, 0, 1);
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface GenOptions {
  rows: number;
  seed: number;
  /** Fraction (0–1) of rows made invalid on purpose (bad email or amount), to see rejections. */
  invalid?: number;
}

/** mulberry32: a tiny, fast, seedable PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The data rows (no header), lazily. */
export function* generateRows(options: GenOptions): Generator<string[]> {
  const rnd = prng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const invalid = options.invalid ?? 0;
  for (let i = 1; i <= options.rows; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    let email = `${first}.${last}${i}@${pick(DOMAINS)}`.toLowerCase();
    let amount = (Math.floor(rnd() * 10_000_000) / 100 + 0.01).toFixed(2);
    const currency = pick(CURRENCIES);
    const country = pick(COUNTRIES);
    const createdAt = new Date(EPOCH + Math.floor(rnd() * YEAR_MS)).toISOString();
    if (invalid > 0 && rnd() < invalid) {
      if (rnd() < 0.5) email = `${first}.${last}`;
      else amount = 'n/a';
    }
    yield [String(i), `${first} ${last}`, email, amount, currency, country, createdAt];
  }
}

/** One CSV line (RFC 4180 quoting when needed), without the newline. */
export function csvLine(cells: readonly string[]): string {
  return cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',');
}

/** The CSV text (header first) in chunks of about 64 KiB. */
export function* csvChunks(options: GenOptions): Generator<string> {
  let chunk = csvLine(CSV_HEADER) + '\n';
  for (const row of generateRows(options)) {
    chunk += csvLine(row) + '\n';
    if (chunk.length >= 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Streams the CSV into `out` with backpressure; `end: false` leaves it open (stdout). */
export async function writeCsv(out: Writable, options: GenOptions, end = true): Promise<void> {
  await pipeline(Readable.from(csvChunks(options)), out, { end });
}

export function registerGenData(program: Command): void {
  program
    .command('gen-data')
    .description(
      'write a test CSV of fake transactions (id,name,email,amount,currency,country,created_at)',
    )
    .option('-n, --rows <n>', 'number of data rows', parseIntOption(0, 100_000_000), 10_000)
    .option('-o, --output <file>', 'output file (- for stdout)', 'data.csv')
    .option(
      '--seed <n>',
      'random seed: the same seed gives the same file',
      parseIntOption(0, 2 ** 32 - 1),
      1,
    )
    .option('--invalid <ratio>', 'fraction of rows made invalid on purpose (0–1)', parseRatio, 0)
    .action(
      async (
        opts: { rows: number; output: string; seed: number; invalid: number },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const toStdout = opts.output === '-';
        const out = toStdout ? process.stdout : createWriteStream(opts.output);
        const options = { rows: opts.rows, seed: opts.seed, invalid: opts.invalid };
        try {
          await writeCsv(out, options, !toStdout);
        } catch (err) {
          throw new UsageError(`cannot write ${opts.output}: ${(err as Error).message}`);
        }
        const n = opts.rows;
        const summary = { rows: n, file: toStdout ? null : opts.output, seed: opts.seed };
        if (ctx.json && !toStdout) ctx.out(JSON.stringify(summary));
        else ctx.err(`wrote ${n} rows${toStdout ? '' : ` to ${opts.output}`} (seed ${opts.seed})`);
      },
    );
}

function parseRatio(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgument('must be from 0 to 1');
  return n;
}
