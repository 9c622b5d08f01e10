import {
  CANCELLABLE_STATES,
  CLAIMABLE_STATES,
  IN_FLIGHT_STATES,
  REQUEUEABLE_STATES,
  finishFrom,
  statesInto,
  type Job,
} from '../../domain/job.ts';
import type { SQLInputValue } from 'node:sqlite';
import type { ClaimRequest, FinishUpdate } from '../roles/job-records.ts';
import { toJson } from '../codec.ts';
import { attemptError, attemptOutcome, endsAttempt } from '../attempts.ts';
import { stateIn } from '../sql-states.ts';
import { rowToJob, type JobRow } from './rows.ts';
import type { Statements } from './statements.ts';

/** The lease-holding states; every fenced write requires one of them. */
const IN_FLIGHT = stateIn(IN_FLIGHT_STATES);

const CLAIM_SET = `state = ?, attempt = attempt + 1, lease_token = ?, lease_owner = ?,
  lease_expires_at = ?, started_at = ?`;

/**
 * The jobs a claim to `to` may take. Qualified (`jobs.`): json_each, joined in claims by id, has
 * `type` and `id` columns too.
 */
function claimable(to: ClaimRequest['to']): string {
  return `jobs.type = ? AND ${stateIn(statesInto(to, CLAIMABLE_STATES), 'jobs.state')}
    AND jobs.cancel_requested = 0 AND jobs.run_at <= ?
    AND (jobs.expires_at IS NULL OR jobs.expires_at > ?)`;
}
export const CLAIMABLE = { running: claimable('running'), starting: claimable('starting') };

/** Ends the lease without dropping its token: a replayed write with that token stays refused. */
const END_LEASE = 'lease_owner = NULL, lease_expires_at = NULL';

/**
 * An ended job back to queued as if new: attempt 0 (a fresh run with all of maxAttempts), one more
 * replay on its record, claimable at the time bound to `runAt`, with no result, error or lease,
 * and no expiry (the operator asked for this run now; an expired job would expire again at once).
 */
export function requeueSet(runAt: string): string {
  return `state = 'queued', attempt = 0, replays = replays + 1, run_at = ${runAt}, started_at = NULL,
    finished_at = NULL, result = NULL, error = NULL, cancel_requested = 0, expires_at = NULL,
    ${END_LEASE}`;
}

export function getJob(s: Statements, id: string): Job | undefined {
  const row = s.get<JobRow>('SELECT * FROM jobs WHERE id = ?', id);
  return row && rowToJob(row);
}

/** Whether the type is paused (./flow.ts); a primary-key lookup in a small table. */
export function isPaused(s: Statements, type: string): boolean {
  return s.get(`SELECT 1 FROM type_controls WHERE type = ? AND paused = 1`, type) !== undefined;
}

/**
 * The claim's statements, inside the caller's transaction (./flow.ts). All jobs of one claim share
 * one token taken from the global counter: the counter only grows, so the token is above every
 * earlier token of each job, and a fenced write compares (id, token), so sharing a value across
 * different jobs is harmless.
 */
export function claimRows(s: Statements, req: ClaimRequest): Job[] {
  const token = nextLeaseToken(s);
  const set = [req.to, token, req.owner, req.leaseExpiresAt, req.now];
  const where = CLAIMABLE[req.to];
  const rows =
    req.jobIds === undefined
      ? s.all<ClaimedRow>(
          `UPDATE jobs SET ${CLAIM_SET} WHERE rowid IN (SELECT rowid FROM jobs WHERE ${where}
            ORDER BY priority DESC, run_at, rowid LIMIT ?) RETURNING rowid AS seq, *`,
          ...set,
          req.type,
          req.now,
          req.now, // the expiry
          req.limit,
        )
      : // CROSS JOIN keeps json_each the outer loop: one primary-key lookup per named id. Left
        // to itself the planner walks the type's whole backlog by index and filters on the ids.
        s.all<ClaimedRow>(
          `UPDATE jobs SET ${CLAIM_SET} WHERE id IN (SELECT jobs.id FROM json_each(?) AS named
            CROSS JOIN jobs ON jobs.id = named.value WHERE ${where} LIMIT ?)
            RETURNING rowid AS seq, *`,
          ...set,
          JSON.stringify(req.jobIds),
          req.type,
          req.now,
          req.now, // the expiry
          req.limit,
        );
  if (rows.length > 0) s.run(`UPDATE meta SET value = ? WHERE key = 'lease_token'`, token);
  return rows.sort(byClaimOrder).map(rowToJob);
}

/** The next token; only consumed (written back) when a claim actually took a job. */
function nextLeaseToken(s: Statements): number {
  const row = s.get<{ v: number }>(`SELECT value + 1 AS v FROM meta WHERE key = 'lease_token'`);
  if (!row) throw new Error('meta.lease_token is missing: the schema is damaged');
  return row.v;
}

/** A claimed row with its rowid, the claim order's last key. */
type ClaimedRow = JobRow & { seq: number };

/**
 * RETURNING gives no order; restore the claim order: priority desc, then oldest runAt, then
 * insertion (rowid, as jobs_claim orders them).
 */
function byClaimOrder(a: ClaimedRow, b: ClaimedRow): number {
  return b.priority - a.priority || a.run_at - b.run_at || a.seq - b.seq;
}

export function heartbeat(s: Statements, id: string, token: number, expiresAt: number): boolean {
  const sql = `UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_token = ? AND ${IN_FLIGHT}`;
  return s.run(sql, expiresAt, id, token) > 0;
}

/** Applies each fenced update in one transaction; returns the jobs that changed, in input order. */
export function finishJobs(s: Statements, updates: readonly FinishUpdate[]): Job[] {
  if (updates.length === 0) return [];
  return s.transaction(() => {
    const changed: Job[] = [];
    for (const update of updates) {
      // Before the update, under the same fence: the row still names the attempt's worker.
      const [set, params, from] = finishSet(update);
      if (endsAttempt(update)) recordAttempt(s, update, from);
      const row = s.get<JobRow>(
        `UPDATE jobs SET ${set} WHERE id = ? AND lease_token = ? AND ${from} RETURNING *`,
        ...params,
        update.id,
        update.token,
      );
      if (row) changed.push(rowToJob(row));
    }
    return changed;
  });
}

/**
 * The attempt `u` ends, as a history row (src/store/attempts.ts), inserted only when the update
 * will apply (same fence, same transaction): a stale completion records nothing.
 */
function recordAttempt(s: Statements, u: FinishUpdate, from: string): void {
  s.run(
    `INSERT INTO job_attempts (job_id, replay, attempt, worker, started_at, finished_at, outcome,
      job_state, error)
    SELECT id, replays, attempt, lease_owner, started_at, ?, ?, ?, ? FROM jobs
      WHERE id = ? AND lease_token = ? AND ${from}`,
    u.now,
    attemptOutcome(u),
    u.to,
    toJson(attemptError(u)),
    u.id,
    u.token,
  );
}

/** Each lease holder's write by target state: the states it may start from, as SQL. */
const FINISH_FROM: Record<FinishUpdate['to'], string> = {
  running: stateIn(finishFrom('running')),
  succeeded: stateIn(finishFrom('succeeded')),
  queued: stateIn(finishFrom('queued')),
  failed: stateIn(finishFrom('failed')),
  timed_out: stateIn(finishFrom('timed_out')),
  cancelled: stateIn(finishFrom('cancelled')),
  dead_lettered: stateIn(finishFrom('dead_lettered')),
};

/** The SET clause, its parameters and the states the transition may start from. */
function finishSet(u: FinishUpdate): [string, SQLInputValue[], string] {
  const from = FINISH_FROM[u.to];
  switch (u.to) {
    case 'running':
      // Only the starting → running step; a running job extends its lease with heartbeat.
      return [`state = 'running', lease_expires_at = ?`, [u.leaseExpiresAt], from];
    case 'succeeded':
      return [
        `state = 'succeeded', finished_at = ?, result = ?, error = NULL, ${END_LEASE}`,
        [u.now, toJson(u.result)],
        from,
      ];
    case 'queued':
      // A retry: the error of the attempt that just ended stays visible while the job waits. A
      // refund (gaffer's stop interrupted it) gives the attempt back.
      return [
        `state = 'queued', run_at = ?, error = ?, attempt = max(attempt - ?, 0), ${END_LEASE}`,
        [u.runAt, toJson(u.error), u.refund ? 1 : 0],
        from,
      ];
    default:
      return [
        `state = ?, finished_at = ?, result = NULL, error = ?, ${END_LEASE}`,
        [u.to, u.now, toJson(u.error ?? null)],
        from,
      ];
  }
}

/** In-flight jobs whose lease ran out before `now`, plus those held by any of `owners`. */
export function findExpired(s: Statements, now: number, owners: readonly string[] = []): Job[] {
  const rows = s.all<JobRow>(
    `SELECT * FROM jobs WHERE ${IN_FLIGHT} AND (lease_expires_at < ?
      OR lease_owner IN (SELECT value FROM json_each(?))) ORDER BY id`,
    now,
    JSON.stringify(owners),
  );
  return rows.map(rowToJob);
}

/** In-flight jobs whose owner starts with `prefix` but not with `exceptPrefix` (exact, case-sensitive). */
export function findOwnedByPrefix(s: Statements, prefix: string, exceptPrefix: string): Job[] {
  const rows = s.all<JobRow>(
    `SELECT * FROM jobs WHERE ${IN_FLIGHT} AND instr(lease_owner, ?) = 1
      AND instr(lease_owner, ?) <> 1 ORDER BY id`,
    prefix,
    exceptPrefix,
  );
  return rows.map(rowToJob);
}

const CANCELLABLE = stateIn(CANCELLABLE_STATES);
const CANCEL_AT_ONCE = stateIn(statesInto('cancelled', CLAIMABLE_STATES));

/**
 * queued → cancelled at once; an in-flight job only gets the request (its worker ends it, and the
 * flag keeps it from being claimed again); an ended job is left alone. Returns the job after.
 */
export function cancelJob(s: Statements, id: string, now: number): Job | undefined {
  // SET expressions all read the row as it was before the update, so the CASEs see the old state.
  const row = s.get<JobRow>(
    `UPDATE jobs SET
      state = CASE WHEN ${CANCEL_AT_ONCE} THEN 'cancelled' ELSE state END,
      finished_at = CASE WHEN ${CANCEL_AT_ONCE} THEN ? ELSE finished_at END,
      cancel_requested = CASE WHEN ${IN_FLIGHT} THEN 1 ELSE cancel_requested END
    WHERE id = ? AND ${CANCELLABLE} RETURNING *`,
    now,
    id,
  );
  return row ? rowToJob(row) : getJob(s, id);
}

/**
 * An ended, unsuccessful job back to queued as if new (attempt 0, claimable at `now`), counted in
 * `replays`. Any other
 * state is returned unchanged, so the caller decides from the state whether it worked.
 */
export function requeueJob(s: Statements, id: string, now: number): Job | undefined {
  const row = s.get<JobRow>(
    `UPDATE jobs SET ${requeueSet('?')}
    WHERE id = ? AND ${stateIn(REQUEUEABLE_STATES)} RETURNING *`,
    now,
    id,
  );
  return row ? rowToJob(row) : getJob(s, id);
}

/** Deletes the listed jobs that are still queued (never claimed); their logs go by cascade. */
export function deleteQueued(s: Statements, ids: readonly string[]): number {
  if (ids.length === 0) return 0;
  return s.transaction(() => {
    let n = 0;
    for (const id of ids) {
      n += s.run(`DELETE FROM jobs WHERE id = ? AND state = 'queued'`, id); // logs cascade
    }
    return n;
  });
}
