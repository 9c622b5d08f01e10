import type {
  ScheduleDefinition,
  ScheduleState,
  StoredSchedule,
} from '../roles/schedule-records.ts';
import type { Statements } from './statements.ts';

/** The ScheduleRecords role on SQLite (src/store/roles/schedule-records.ts). */

interface ScheduleRow {
  name: string;
  definition: string;
  created_at: number;
  updated_at: number;
}

interface StateRow {
  name: string;
  since: number;
  paused: number | null;
  last_tick: number | null;
  last_job_id: string | null;
  last_job_tick: number | null;
  next_due: number | null;
}

export function putSchedule(
  s: Statements,
  name: string,
  definition: ScheduleDefinition,
  now: number,
): StoredSchedule {
  const row = s.get<ScheduleRow>(
    `INSERT INTO schedules (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET definition = excluded.definition,
        updated_at = excluded.updated_at
      RETURNING *`,
    name,
    JSON.stringify(definition),
    now,
    now,
  );
  return scheduleOf(row!);
}

export function getSchedule(s: Statements, name: string): StoredSchedule | undefined {
  const row = s.get<ScheduleRow>('SELECT * FROM schedules WHERE name = ?', name);
  return row && scheduleOf(row);
}

export function listSchedules(s: Statements): StoredSchedule[] {
  return s.all<ScheduleRow>('SELECT * FROM schedules ORDER BY name').map(scheduleOf);
}

export function deleteSchedule(s: Statements, name: string): boolean {
  return s.transaction(
    () =>
      s.run('DELETE FROM schedules WHERE name = ?', name) +
        s.run('DELETE FROM schedule_state WHERE name = ?', name) >
      0,
  );
}

export function ensureScheduleState(
  s: Statements,
  name: string,
  since: number,
  nextDue: number | null,
): ScheduleState {
  s.run(
    `INSERT INTO schedule_state (name, since, next_due) VALUES (?, ?, ?)
      ON CONFLICT (name) DO NOTHING`,
    name,
    since,
    nextDue,
  );
  return getScheduleState(s, name)!;
}

export function getScheduleState(s: Statements, name: string): ScheduleState | undefined {
  const row = s.get<StateRow>('SELECT * FROM schedule_state WHERE name = ?', name);
  return row && stateOf(row);
}

export function listScheduleStates(s: Statements): ScheduleState[] {
  return s.all<StateRow>('SELECT * FROM schedule_state ORDER BY name').map(stateOf);
}

export function setSchedulePaused(s: Statements, name: string, paused: boolean | null): boolean {
  const value = paused === null ? null : paused ? 1 : 0;
  return s.run('UPDATE schedule_state SET paused = ? WHERE name = ?', value, name) === 1;
}

/** One UPDATE whose WHERE holds the expectation: SQLite runs it alone, so one caller wins. */
export function advanceSchedule(
  s: Statements,
  name: string,
  expected: number | null,
  advance: { lastTick: number; jobId: string | null; nextDue: number | null },
): boolean {
  const changed = s.run(
    `UPDATE schedule_state SET last_tick = ?, next_due = ?,
        last_job_id = coalesce(?, last_job_id),
        last_job_tick = CASE WHEN ? IS NULL THEN last_job_tick ELSE ? END
      WHERE name = ? AND last_tick IS ?`,
    advance.lastTick,
    advance.nextDue,
    advance.jobId,
    advance.jobId,
    advance.lastTick,
    name,
    expected,
  );
  return changed === 1;
}

function scheduleOf(row: ScheduleRow): StoredSchedule {
  return {
    name: row.name,
    definition: JSON.parse(row.definition) as ScheduleDefinition,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function stateOf(row: StateRow): ScheduleState {
  return {
    name: row.name,
    since: row.since,
    paused: row.paused === null ? null : row.paused === 1,
    lastTick: row.last_tick,
    lastFired:
      row.last_job_id === null || row.last_job_tick === null
        ? null
        : { tick: row.last_job_tick, jobId: row.last_job_id },
    nextDue: row.next_due,
  };
}
