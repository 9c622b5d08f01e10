// One batch (#/batches/<id>): progress by state, the rejected rows' download, its jobs, and
// "retry failed rows" (POST /v1/batches/:id/retry-failed: failed and timed-out jobs retried,
// dead-lettered ones replayed).
import { api, enc, post } from '../api.js';
import { endedOf, percentOf, progress, stateCounts } from '../batch-common.js';
import { $, emptyRow, h, jobLink, jobStateBadge, link, operateButton, when } from '../dom.js';

const state = { id: null, batch: null, jobs: [], error: null };

const view = {
  title: (p) => `Batch ${p.id}`,
  events: ['batch', 'jobs'],
  mount(root, params) {
    Object.assign(state, { id: params.id, batch: null, jobs: [], error: null });
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'batch-title' },
        h('p', {}, link('batches', '← Batches')),
        h(
          'header',
          { class: 'page-head' },
          h('h2', { id: 'batch-title' }, 'Batch ', h('span', { class: 'mono' }, params.id)),
          h(
            'span',
            { class: 'actions' },
            operateButton('Retry failed rows', retryFailed, { id: 'retry-failed' }),
          ),
        ),
        h('p', { id: 'batch-message', role: 'status' }),
        h('div', { id: 'batch-summary' }),
        h('h3', {}, 'Jobs ', h('span', { id: 'batch-jobs-link' })),
        h(
          'table',
          { id: 'batch-jobs' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['id', 'state', 'attempt', 'error'].map((t) =>
                h('th', { scope: 'col', class: t === 'attempt' ? 'num' : null }, t),
              ),
            ),
          ),
          h('tbody'),
        ),
      ),
    );
  },
  async load() {
    const id = state.id;
    try {
      const [b, j] = await Promise.all([
        api(`/v1/batches/${enc(id)}`),
        api(`/v1/jobs?batch=${enc(id)}&limit=25`),
      ]);
      state.batch = b.batch;
      state.jobs = j.jobs;
    } catch (err) {
      if (err.status === 404) state.error = `No batch ${id}.`;
      else throw err;
    }
  },
  render() {
    const b = state.batch;
    if (!b) {
      $('#batch-message').textContent = state.error ?? '';
      return;
    }
    const failed = ['failed', 'timed_out', 'dead_lettered'].reduce(
      (n, s) => n + (b.byState?.[s] ?? 0),
      0,
    );
    $('#batch-summary').replaceChildren(
      h(
        'dl',
        { class: 'fields' },
        ...[
          ['source', b.source],
          ['type', b.type ?? 'routed per row'],
          ['created', when(b.createdAt)],
          ['accepted', String(b.accepted)],
          ['rejected', String(b.rejected)],
          ['ended', `${endedOf(b)} of ${b.accepted}`],
        ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      ),
      h(
        'p',
        { id: 'batch-status', 'data-finished': String(b.done && endedOf(b) >= b.accepted) },
        b.done ? (endedOf(b) >= b.accepted ? 'done' : 'running') : 'ingesting…',
        ` · ${percentOf(b)}%`,
      ),
      progress(b),
      h('p', {}, stateCounts(b)),
      b.rejected
        ? h(
            'p',
            {},
            h(
              'a',
              {
                id: 'rejected-download',
                href: `/v1/batches/${enc(b.id)}/rejected`,
                download: `${b.id}-rejected.csv`,
              },
              `Download the ${b.rejected} rejected rows (CSV)`,
            ),
          )
        : null,
    );
    $('#retry-failed').disabled = failed === 0;
    $('#batch-jobs-link').replaceChildren(link(`jobs?batch=${enc(b.id)}`, 'all of them →'));
    const rows = state.jobs.map((j) =>
      h(
        'tr',
        { 'data-id': j.id },
        h('td', {}, jobLink(j.id)),
        h('td', {}, jobStateBadge(j)),
        h('td', { class: 'num' }, `${j.attempt}/${j.maxAttempts}`),
        h('td', {}, j.error ? `${j.error.class}: ${j.error.message.split('\n')[0]}` : ''),
      ),
    );
    $('#batch-jobs tbody').replaceChildren(...(rows.length ? rows : [emptyRow(4, 'No jobs.')]));
  },
};
export default view;

async function retryFailed() {
  try {
    const r = await post(`/v1/batches/${enc(state.id)}/retry-failed`);
    const parts = [`${r.retried} retried`, `${r.replayed} replayed from dead letters`];
    if (r.forbidden) parts.push(`${r.forbidden} not yours to retry`);
    if (r.skipped.length) parts.push(`${r.skipped.length} skipped`);
    $('#batch-message').textContent = `Retry failed rows: ${parts.join(', ')}.`;
  } catch (err) {
    $('#batch-message').textContent = err.message;
  }
  await view.load();
  view.render();
}
