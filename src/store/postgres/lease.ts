import type pg from 'pg';
import { run } from './db.ts';

/**
 * Takes, renews or takes over the lease in one atomic statement: the insert wins a free name; on
 * a conflict the row is updated only when it expired before `now` or already belongs to `holder`.
 * Concurrent callers are serialised by the row (or by the unique index for a new name), and each
 * re-checks the condition on the row as the winner left it, so at most one succeeds.
 */
const ACQUIRE_SQL = `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
  ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
  WHERE leases.expires_at < $4 OR leases.holder = EXCLUDED.holder
  RETURNING holder`;

export async function acquireLease(
  pool: pg.Pool,
  name: string,
  holder: string,
  ttlMs: number,
  now: number,
): Promise<boolean> {
  return (await run(pool, ACQUIRE_SQL, [name, holder, now + ttlMs, now])) === 1;
}

/** Deletes the lease only if `holder` still holds it: a late release never frees a successor's. */
export async function releaseLease(pool: pg.Pool, name: string, holder: string): Promise<void> {
  await run(pool, 'DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
}
