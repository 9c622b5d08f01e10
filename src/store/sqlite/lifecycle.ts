import type { SQLInputValue } from 'node:sqlite';
import type { Job } from '../../domain/job.ts';
import { toJson } from '../codec.ts';
import type { DeadLetterEdit } from '../roles/dead-letter-writes.ts';
import { cutEntry, logTrimMarker, type PurgeRequest } from '../roles/job-retention.ts';
import { getJob, requeueSet } from './jobs.ts';
import { rowToJob, type JobRow } from './rows.ts';
import type { Statements } from './statements.ts';

/** Dead-letter edits and replays, and retention (each contract is in ../roles/dead-letter-writes.ts and ../roles/job-retention.ts). */

export function editDeadLettered(
  s: Statements,
  id: string,
  patch: DeadLetterEdit,
): Job | undefined {
  const set: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (column: string, value: SQLInputValue) => {
    set.push(`${column} = ?`);
    params.push(value);
  };
  if ('payload' in patch) add('payload', toJson(patch.payload));
  if (patch.maxAttempts !== undefined) add('max_attempts', patch.maxAttempts);
  if (patch.priority !== undefined) add('priority', patch.priority);
  if (set.length === 0) return getJob(s, id);
  const row = s.get<JobRow>(
    `UPDATE jobs SET ${set.join(', ')} WHERE id = ? AND state = 'dead_lettered' RETURNING *`,
    ...params,
    id,
  );
  return row ? rowToJob(row) : getJob(s, id);
}

export function replayDeadLettered(s: Statements, ids: readonly string[], now: number): Job[] {
  if (ids.length === 0) return [];
  const rows = s.all<JobRow>(
    `UPDATE jobs SET ${requeueSet('?')}
    WHERE id IN (SELECT value FROM json_each(?)) AND state = 'dead_lettered' RETURNING *`,
    now,
    JSON.stringify(ids),
  );
  const order = new Map(ids.map((id, i) => [id, i]));
  return rows.map(rowToJob).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

/** One statement: its deletes (and the logs' cascade) commit together. */
export function purgeEnded(s: Statements, req: PurgeRequest): number {
  if (req.states.length === 0 || req.limit <= 0) return 0;
  const states = JSON.stringify(req.states);
  const ended = `state IN (SELECT value FROM json_each(?)) AND finished_at IS NOT NULL`;
  const conditions: string[] = [];
  const params: SQLInputValue[] = [];
  if (req.endedBefore !== null) {
    conditions.push('finished_at < ?');
    params.push(req.endedBefore);
  }
  if (req.keepNewest !== null) {
    // The newest row beyond the kept ones: it and everything that ended before it go.
    const edge = s.get<{ finished_at: number; id: string }>(
      `SELECT finished_at, id FROM jobs WHERE ${ended}
        ORDER BY finished_at DESC, id DESC LIMIT 1 OFFSET ?`,
      states,
      req.keepNewest,
    );
    if (edge) {
      conditions.push('(finished_at, id) <= (?, ?)');
      params.push(edge.finished_at, edge.id);
    }
  }
  if (conditions.length === 0) return 0;
  return s.run(
    `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE ${ended}
      AND (${conditions.join(' OR ')}) ORDER BY finished_at, id LIMIT ?)`,
    states,
    ...params,
    req.limit,
  );
}

export function trimLogs(
  s: Statements,
  maxBytes: number,
  afterSeq: number,
): { trimmed: string[]; lastSeq: number } {
  return s.transaction(() => {
    const lastSeq = s.get<{ v: number | null }>('SELECT max(seq) AS v FROM logs')?.v ?? afterSeq;
    const jobs = s.all<{ job_id: string }>(
      'SELECT DISTINCT job_id FROM logs WHERE seq > ? AND seq <= ?',
      afterSeq,
      lastSeq,
    );
    const trimmed = jobs.map((j) => j.job_id).filter((id) => trimJob(s, id, maxBytes));
    return { trimmed, lastSeq: Math.max(lastSeq, afterSeq) };
  });
}

const BYTES = 'length(CAST(data AS BLOB))';

/** Cuts one job's log to its budget (see JobRetention.trimLogs); true when it cut anything. */
function trimJob(s: Statements, jobId: string, maxBytes: number): boolean {
  const total = s.get<{ n: number | null }>(
    `SELECT sum(${BYTES}) AS n FROM logs WHERE job_id = ?`,
    jobId,
  )?.n;
  if (total == null || total <= maxBytes) return false;
  const budget = maxBytes - Buffer.byteLength(logTrimMarker(maxBytes));
  // Newest first with a running total: the first entry past the budget straddles the cut.
  const cut = s.get<{ seq: number; data: string; run: number; bytes: number }>(
    `SELECT seq, data, run, bytes FROM (SELECT seq, data, ${BYTES} AS bytes,
        sum(${BYTES}) OVER (ORDER BY seq DESC) AS run FROM logs WHERE job_id = ?)
      WHERE run > ? ORDER BY seq DESC LIMIT 1`,
    jobId,
    budget,
  );
  if (!cut) return false;
  const room = budget - (cut.run - cut.bytes);
  const text = cutEntry(Buffer.from(cut.data, 'utf8'), room, maxBytes).toString('utf8');
  s.run('DELETE FROM logs WHERE job_id = ? AND seq < ?', jobId, cut.seq);
  s.run('UPDATE logs SET data = ? WHERE seq = ?', text, cut.seq);
  return true;
}
