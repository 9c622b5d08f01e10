import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import path from 'node:path';
import type { Fault, FinalJob, LedgerEntry } from './checker.ts';

/** What a chaos run reads back after the drain: gaffer's records, the ledger, the side effects. */

export async function finalJobs(url: string): Promise<FinalJob[]> {
  const out: FinalJob[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = (await (await fetch(`${url}/v1/jobs?type=chaos&limit=1000${q}`)).json()) as {
      jobs: {
        id: string;
        idempotencyKey: string | null;
        state: string;
        attempt: number;
        result: { nonce?: string } | null;
        createdAt: string | number;
      }[];
      nextCursor: string | null;
    };
    for (const j of page.jobs) {
      out.push({
        id: j.id,
        idempotencyKey: j.idempotencyKey,
        state: j.state,
        attempt: j.attempt,
        nonce: j.result?.nonce ?? null,
        createdAt: typeof j.createdAt === 'number' ? j.createdAt : Date.parse(j.createdAt),
      });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

export function readLedger(dir: string): LedgerEntry[] {
  const file = path.join(dir, 'ledger.ndjson');
  if (!existsSync(file)) return []; // no job ran
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LedgerEntry);
}

/**
 * Side-effect rows per submission key (chaos/handler.ts writes one file per job id). A cron
 * schedule's jobs all carry its payload's key `tickKey`: theirs are counted per tick instead, by the
 * idempotency key of the job (`keyOf`) — a tick run under two job ids is a duplicate effect.
 */
export function readEffects(
  dir: string,
  tickKey?: string,
  keyOf?: ReadonlyMap<string, string | null>,
): Map<string, number> {
  const root = path.join(dir, 'effects');
  const out = new Map<string, number>();
  if (!existsSync(root)) return out; // no job completed
  for (const key of readdirSync(root)) {
    const jobs = readdirSync(path.join(root, key));
    if (decodeURIComponent(key) !== tickKey) {
      out.set(decodeURIComponent(key), jobs.length);
      continue;
    }
    for (const job of jobs) {
      const tick = keyOf?.get(job) ?? job;
      out.set(tick, (out.get(tick) ?? 0) + 1);
    }
  }
  return out;
}

/**
 * Every claim of the type's jobs (store clock ms), from gaffer's SQLite file once it has stopped:
 * each ended attempt's row in `job_attempts` holds its claim time (every attempt has ended then).
 */
export function storeClaims(dataDir: string, type: string): { job: string; at: number }[] {
  const db = new DatabaseSync(path.join(dataDir, 'gaffer.db'), { readOnly: true });
  try {
    const sql = `SELECT a.job_id AS job, a.started_at AS at FROM job_attempts a
      JOIN jobs j ON j.id = a.job_id WHERE j.type = ? AND a.started_at IS NOT NULL`;
    return db.prepare(sql).all(type) as { job: string; at: number }[];
  } finally {
    db.close();
  }
}

/** When gaffer first saw the schedule (its state's `since`), from its SQLite file. */
export function scheduleSince(dataDir: string, name: string): number {
  const db = new DatabaseSync(path.join(dataDir, 'gaffer.db'), { readOnly: true });
  try {
    const row = db.prepare('SELECT since FROM schedule_state WHERE name = ?').get(name) as
      { since: number } | undefined;
    if (!row) throw new Error(`the store has no state for the schedule ${name}`);
    return row.since;
  } finally {
    db.close();
  }
}

/** A poison job kills its own worker: a fault too, for the executions that shared that worker. */
export function poisonFaults(ledger: readonly LedgerEntry[]): Fault[] {
  return ledger
    .filter((e) => e.t === 'start' && e.poison)
    .map((e) => ({ kind: 'worker_lost', at: e.at, until: e.at, pids: [e.pid] }));
}

/**
 * Processes of this run still alive (zombies aside): any whose command line or initial
 * environment names the run's directory — gaffer by its `--config`, a worker by its spec (which
 * carries the type's environment, CHAOS_DIR included), a job's child by inheriting either.
 */
export function orphans(dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (/\) Z /.test(stat)) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (cmdline.includes(dir) || env.includes(dir)) out.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/**
 * Jobs the store still holds unfinished, read from gaffer's SQLite file itself once gaffer has
 * stopped (sqlite is the embedded store's own tool), not through gaffer's API.
 */
export function storeUnfinished(dataDir: string): number {
  const db = new DatabaseSync(path.join(dataDir, 'gaffer.db'), { readOnly: true });
  try {
    const row = db
      .prepare("SELECT count(*) AS n FROM jobs WHERE state IN ('queued', 'starting', 'running')")
      .get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/**
 * How the attempts that did not succeed ended, by cause, from gaffer's own record of them
 * (`job_attempts`, read from its SQLite file once it has stopped): a lease that expired, a worker
 * that exited, gaffer restarted, a failure the handler reported. Diagnostics for a run's report:
 * a lease expiry in a run whose fault pauses no worker says something stalled past the lease.
 */
export function endedAttempts(dataDir: string): Record<string, number> {
  const db = new DatabaseSync(path.join(dataDir, 'gaffer.db'), { readOnly: true });
  try {
    const rows = db
      .prepare("SELECT error FROM job_attempts WHERE outcome != 'succeeded'")
      .all() as { error: string | null }[];
    const out: Record<string, number> = {};
    for (const { error } of rows) {
      const message = error ? String((JSON.parse(error) as { message?: unknown }).message) : '';
      const cause = /^lease expired/.test(message)
        ? 'lease expired'
        : /^worker .* exited/.test(message)
          ? 'worker exited'
          : /^gaffer restarted/.test(message)
            ? 'gaffer restarted'
            : /^sandboxed handler process/.test(message)
              ? 'sandbox died'
              : message.slice(0, 40) || 'no error';
      out[cause] = (out[cause] ?? 0) + 1;
    }
    return out;
  } finally {
    db.close();
  }
}
