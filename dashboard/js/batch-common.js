// What the batch list and the batch page share: progress of a batch from its counts.
import { TERMINAL, badge, h } from './dom.js';

export const endedOf = (b) => [...TERMINAL].reduce((n, s) => n + (b.byState?.[s] ?? 0), 0);

/** Percent of accepted jobs that ended; 100 for a batch with none. */
export const percentOf = (b) => (b.accepted ? Math.floor((endedOf(b) / b.accepted) * 100) : 100);

/** A batch is finished once ingested and every accepted job ended. */
export const finished = (b) => b.done && endedOf(b) >= b.accepted;

export function progress(b) {
  const pct = percentOf(b);
  return h(
    'div',
    { class: 'batch-progress' },
    h('progress', { max: '100', value: String(pct), 'aria-label': `batch ${b.id} progress` }),
    h('span', { class: 'pct' }, `${pct}%`),
  );
}

export function stateCounts(b) {
  const states = Object.entries(b.byState ?? {}).filter(([, n]) => n > 0);
  return h(
    'span',
    { class: 'counts' },
    ...states.map(([s, n]) => h('span', { class: 'pair', 'data-state': s }, badge(s), ` ${n}`)),
  );
}
