/* global FormData */
// Jobs: filter by type, state and batch, search, and page through any number of jobs with the
// API's keyset cursor (next) and a stack of the cursors seen (previous). Every filter combination
// reads an index (test/dashboard/listing-plan.test.ts), so a page costs the same at a million.
import { api } from '../api.js';
import {
  $,
  JOB_FILTER_STATES,
  ago,
  duration,
  emptyRow,
  h,
  isDelayed,
  jobLink,
  jobStateBadge,
  pager,
} from '../dom.js';

const PAGE = 25;
const state = { types: [], jobs: [], next: null, cursors: [null], filter: {} };

const view = {
  title: () => 'Jobs',
  events: ['jobs'],
  mount(root, params) {
    state.filter = Object.fromEntries(
      ['type', 'state', 'batch', 'search'].map((k) => [k, params.query.get(k) ?? '']),
    );
    state.cursors = [null];
    const select = (name, options) =>
      h(
        'select',
        { name, id: `f-${name}` },
        h('option', { value: '' }, 'all'),
        ...options.map((o) => h('option', { value: o }, o.replace('_', ' '))),
      );
    const form = h(
      'form',
      { id: 'job-filter', class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('label', { for: 'f-type' }, 'type'),
      select('type', []),
      h('label', { for: 'f-state' }, 'state'),
      select('state', JOB_FILTER_STATES),
      h('label', { for: 'f-batch' }, 'batch'),
      h('input', { id: 'f-batch', name: 'batch', placeholder: 'batch id', size: 18 }),
      h('label', { for: 'f-search' }, 'search'),
      h('input', {
        id: 'f-search',
        name: 'search',
        type: 'search',
        placeholder: 'id prefix, idempotency key or payload text',
        size: 36,
      }),
    );
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'h-jobs' },
        h('h2', { id: 'h-jobs' }, 'Jobs'),
        form,
        h(
          'p',
          { class: 'muted hint' },
          'Search matches an id prefix, an idempotency key, or payload text among the newest 10,000 jobs.',
        ),
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { id: 'jobs-table' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['id', 'type', 'state', 'attempt', 'priority', 'created', 'ran', 'batch'].map(
                  (t, i) => h('th', { scope: 'col', class: i >= 3 && i <= 6 ? 'num' : null }, t),
                ),
              ),
            ),
            h('tbody'),
          ),
        ),
        pager(page),
      ),
    );
    for (const [k, v] of Object.entries(state.filter)) form.elements[k].value = v;
    form.addEventListener('input', () => {
      state.filter = Object.fromEntries(new FormData(form));
      state.cursors = [null];
      const q = new URLSearchParams(Object.entries(state.filter).filter(([, v]) => v));
      window.history.replaceState(null, '', `#/jobs${q.size ? `?${q}` : ''}`);
      void reload();
    });
  },
  async load() {
    const params = new URLSearchParams({ limit: String(PAGE) });
    for (const [k, v] of Object.entries(state.filter)) if (v) params.set(k, v);
    const cursor = state.cursors.at(-1);
    if (cursor) params.set('cursor', cursor);
    const [page, queues] = await Promise.all([
      api(`/v1/jobs?${params}`),
      state.types.length ? null : api('/v1/queues'),
    ]);
    state.jobs = page.jobs;
    state.next = page.nextCursor;
    if (queues) state.types = queues.queues.map((q) => q.type);
  },
  render() {
    const select = $('#f-type');
    if (select && select.options.length === 1) {
      select.append(...state.types.map((t) => h('option', { value: t }, t)));
      select.value = state.filter.type ?? '';
    }
    const rows = state.jobs.map((j) =>
      h(
        'tr',
        { 'data-id': j.id, 'data-state': j.state, 'data-delayed': isDelayed(j) ? 'true' : null },
        h('td', {}, jobLink(j.id)),
        h('td', {}, j.type),
        h('td', {}, jobStateBadge(j)),
        h('td', { class: 'num' }, `${j.attempt}/${j.maxAttempts}`),
        h('td', { class: 'num' }, j.priority),
        h('td', { class: 'num' }, ago(j.createdAt)),
        h(
          'td',
          { class: 'num' },
          j.startedAt ? duration((j.finishedAt ?? Date.now()) - j.startedAt) : '–',
        ),
        h('td', { class: 'mono' }, j.batchId ?? ''),
      ),
    );
    $('#jobs-table tbody').replaceChildren(
      ...(rows.length ? rows : [emptyRow(8, 'No jobs match.')]),
    );
    $('#prev').disabled = state.cursors.length <= 1;
    $('#next').disabled = !state.next;
    $('#page-info').textContent = `page ${state.cursors.length}`;
  },
};

export default view;

async function reload() {
  await view.load();
  view.render();
}

function page(step) {
  if (step > 0 && state.next) state.cursors.push(state.next);
  if (step < 0 && state.cursors.length > 1) state.cursors.pop();
  void reload();
}
