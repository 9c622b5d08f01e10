import { JOB_STATES, canTransition, type JobState } from '../domain/job.ts';

/**
 * SQL over job states, rendered from the domain's sets so neither store spells a state list of
 * its own. The states are interpolated as literals (they are the domain's constants, never
 * input); each is checked against JOB_STATES all the same, so a bad value fails at start-up.
 */

function literal(state: JobState): string {
  if (!(JOB_STATES as readonly string[]).includes(state)) {
    throw new Error(`not a job state: ${String(state)}`);
  }
  return `'${state}'`;
}

/**
 * `column IN ('a', 'b')`, or `column = 'a'` for one state (the form the partial indexes on
 * `state = 'queued'` are matched by); an empty set (SQL has no `IN ()`) is a programming error.
 */
export function stateIn(states: Iterable<JobState>, column = 'state'): string {
  const list = [...states];
  if (list.length === 0) throw new Error('stateIn: no states');
  if (list.length === 1) return `${column} = ${literal(list[0]!)}`;
  return `${column} IN (${list.map(literal).join(', ')})`;
}

/**
 * `(toColumn, fromColumn) IN (('to', 'from'), …)`: true when the row's move from its state
 * (`fromColumn`) to the state `toColumn` names is in the table, for every `to` of `tos` and
 * every `from` of `from`. For statements that apply several kinds of move at once.
 */
export function transitionIn(
  tos: Iterable<JobState>,
  from: Iterable<JobState>,
  toColumn: string,
  fromColumn = 'state',
): string {
  const froms = [...from];
  const pairs = [...tos].flatMap((to) =>
    froms.filter((f) => canTransition(f, to)).map((f) => `(${literal(to)}, ${literal(f)})`),
  );
  if (pairs.length === 0) throw new Error('transitionIn: no transitions');
  return `(${toColumn}, ${fromColumn}) IN (${pairs.join(', ')})`;
}
