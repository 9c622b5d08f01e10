import { JOB_STATES, type JobState } from '../domain/job.ts';

/** Row encoding both stores share. */

/** JSON text, or NULL for `undefined` (which JSON cannot represent); read back as null. */
export function toJson(value: unknown): string | null {
  return JSON.stringify(value) ?? null;
}

export function fromJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** Job counts per state, keyed in the domain's state order. */
export function countByState(
  rows: readonly { state: JobState; n: number }[],
): Partial<Record<JobState, number>> {
  const out: Partial<Record<JobState, number>> = {};
  for (const state of JOB_STATES) {
    const row = rows.find((r) => r.state === state);
    if (row) out[state] = row.n;
  }
  return out;
}

/** Column of each patchable batch field; SET clauses are built only from these names, never input. */
export const BATCH_COLUMNS = {
  createdAt: 'created_at',
  source: 'source',
  type: 'type',
  accepted: 'accepted',
  rejected: 'rejected',
  done: 'done',
} as const;
