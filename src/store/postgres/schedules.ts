import type pg from 'pg';
import type {
  ScheduleDefinition,
  ScheduleState,
  StoredSchedule,
} from '../roles/schedule-records.ts';
import { first, rows, run, transaction } from './db.ts';

/** The ScheduleRecords role on PostgreSQL (src/store/roles/schedule-records.ts). */

interface ScheduleRow {
  name: string;
  definition: ScheduleDefinition;
  created_at: number;
  updated_at: number;
}

interface StateRow {
  name: string;
  since: number;
  paused: boolean | null;
  last_tick: number | null;
  last_job_id: string | null;
  last_job_tick: number | null;
  next_due: number | null;
}

export async function putSchedule(
  pool: pg.Pool,
  name: string,
  definition: ScheduleDefinition,
  now: number,
): Promise<StoredSchedule> {
  const row = await first<ScheduleRow>(
    pool,
    `INSERT INTO schedules (name, definition, created_at, updated_at) VALUES ($1, $2::jsonb, $3, $3)
      ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition,
        updated_at = EXCLUDED.updated_at
      RETURNING *`,
    [name, JSON.stringify(definition), now],
  );
  return scheduleOf(row!);
}

export async function getSchedule(
  pool: pg.Pool,
  name: string,
): Promise<StoredSchedule | undefined> {
  const row = await first<ScheduleRow>(pool, 'SELECT * FROM schedules WHERE name = $1', [name]);
  return row && scheduleOf(row);
}

export async function listSchedules(pool: pg.Pool): Promise<StoredSchedule[]> {
  return (await rows<ScheduleRow>(pool, 'SELECT * FROM schedules ORDER BY name')).map(scheduleOf);
}

export async function deleteSchedule(pool: pg.Pool, name: string): Promise<boolean> {
  return transaction(pool, async (c) => {
    const definitions = await run(c, 'DELETE FROM schedules WHERE name = $1', [name]);
    const states = await run(c, 'DELETE FROM schedule_state WHERE name = $1', [name]);
    return definitions + states > 0;
  });
}

/** The insert wins a free name; a concurrent one waits on the unique index, then does nothing. */
export async function ensureScheduleState(
  pool: pg.Pool,
  name: string,
  since: number,
  nextDue: number | null,
): Promise<ScheduleState> {
  await run(
    pool,
    `INSERT INTO schedule_state (name, since, next_due) VALUES ($1, $2, $3)
      ON CONFLICT (name) DO NOTHING`,
    [name, since, nextDue],
  );
  return (await getScheduleState(pool, name))!;
}

export async function getScheduleState(
  pool: pg.Pool,
  name: string,
): Promise<ScheduleState | undefined> {
  const row = await first<StateRow>(pool, 'SELECT * FROM schedule_state WHERE name = $1', [name]);
  return row && stateOf(row);
}

export async function listScheduleStates(pool: pg.Pool): Promise<ScheduleState[]> {
  return (await rows<StateRow>(pool, 'SELECT * FROM schedule_state ORDER BY name')).map(stateOf);
}

export async function setSchedulePaused(
  pool: pg.Pool,
  name: string,
  paused: boolean | null,
): Promise<boolean> {
  const changed = await run(pool, 'UPDATE schedule_state SET paused = $2 WHERE name = $1', [
    name,
    paused,
  ]);
  return changed === 1;
}

/**
 * One UPDATE whose WHERE holds the expectation. Concurrent callers queue on the row's lock; each
 * re-checks the WHERE on the row as the winner left it (READ COMMITTED), so only one succeeds.
 */
export async function advanceSchedule(
  pool: pg.Pool,
  name: string,
  expected: number | null,
  advance: { lastTick: number; jobId: string | null; nextDue: number | null },
): Promise<boolean> {
  const changed = await run(
    pool,
    `UPDATE schedule_state SET last_tick = $3, next_due = $5,
        last_job_id = coalesce($4, last_job_id),
        last_job_tick = CASE WHEN $4::text IS NULL THEN last_job_tick ELSE $3 END
      WHERE name = $1 AND last_tick IS NOT DISTINCT FROM $2::bigint`,
    [name, expected, advance.lastTick, advance.jobId, advance.nextDue],
  );
  return changed === 1;
}

function scheduleOf(row: ScheduleRow): StoredSchedule {
  return {
    name: row.name,
    definition: row.definition,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function stateOf(row: StateRow): ScheduleState {
  return {
    name: row.name,
    since: row.since,
    paused: row.paused,
    lastTick: row.last_tick,
    lastFired:
      row.last_job_id === null || row.last_job_tick === null
        ? null
        : { tick: row.last_job_tick, jobId: row.last_job_id },
    nextDue: row.next_due,
  };
}
