import type { JobContext } from '../../src/worker/handler.ts';

/**
 * Seed 000's per-row job, as an in-process TypeScript handler: validates and normalises one row
 * of the CSV that `gaffer gen-data` writes (id,name,email,amount,currency,country,created_at).
 * Cheap by default, so 10,000 rows show the scaling rather than the work; set
 * SIMULATE_WORKLOAD_DURATION_IN_SEC (seed 001) to make every row take that long.
 */

export interface CsvRow {
  id: string;
  name: string;
  email: string;
  amount: string;
  currency?: string;
  country?: string;
  created_at: string;
}

export interface CsvRowResult {
  id: number;
  email: string;
  amountCents: number;
  currency: string;
  day: string;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const AMOUNT = /^-?\d+(\.\d{1,2})?$/;

export default async function handle(ctx: JobContext<CsvRow>): Promise<CsvRowResult> {
  const row = ctx.payload;
  const id = Number(row.id);
  if (!Number.isSafeInteger(id) || id < 0) throw new Error(`id is not a whole number: ${row.id}`);
  const email = String(row.email).trim().toLowerCase();
  if (!EMAIL.test(email)) throw new Error(`row ${row.id}: invalid email "${row.email}"`);
  const amount = String(row.amount).trim();
  if (!AMOUNT.test(amount)) throw new Error(`row ${row.id}: invalid amount "${row.amount}"`);
  const created = new Date(row.created_at);
  if (Number.isNaN(created.getTime())) {
    throw new Error(`row ${row.id}: invalid created_at "${row.created_at}"`);
  }
  const seconds = Number(process.env['SIMULATE_WORKLOAD_DURATION_IN_SEC'] ?? 0);
  if (seconds > 0) {
    ctx.log(`simulating ${seconds}s of work`);
    await sleep(seconds * 1000, ctx.signal);
  }
  return {
    id,
    email,
    amountCents: toCents(amount),
    currency: (row.currency ?? 'EUR').toUpperCase(),
    day: created.toISOString().slice(0, 10),
  };
}

/** "12.3" → 1230, exactly (no floating point). */
function toCents(amount: string): number {
  const negative = amount.startsWith('-');
  const [whole = '0', frac = ''] = amount.replace('-', '').split('.');
  const cents = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  return negative ? -cents : cents;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
