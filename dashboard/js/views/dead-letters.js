// The dead-letter queue: jobs that used up their attempts, filtered by type, replayed one by one
// or all shown at once (POST /v1/dead-letters/replay).
import { api, post } from '../api.js';
import { $, ago, emptyRow, h, jobLink, operateButton } from '../dom.js';

const state = { jobs: [], types: [], type: '', message: '' };

const view = {
  title: () => 'Dead letters',
  events: ['jobs'],
  mount(root) {
    state.message = '';
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'h-dlq' },
        h(
          'h2',
          { id: 'h-dlq' },
          'Dead-letter queue ',
          h('span', { id: 'dlq-count', class: 'muted' }),
        ),
        h(
          'form',
          { id: 'dlq-filter', class: 'filters', onsubmit: (e) => e.preventDefault() },
          h('label', { for: 'dlq-type' }, 'type'),
          h(
            'select',
            {
              id: 'dlq-type',
              name: 'type',
              oninput: async (e) => {
                state.type = e.target.value;
                await view.load();
                view.render();
              },
            },
            h('option', { value: '' }, 'all'),
          ),
          operateButton('Replay all shown', replayAll, { id: 'dlq-replay-all' }),
        ),
        h('p', { id: 'dlq-message', role: 'status' }),
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { id: 'dlq' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['id', 'type', 'attempts', 'replays', 'ended', 'last error', ''].map((t) =>
                  h('th', { scope: 'col' }, t),
                ),
              ),
            ),
            h('tbody'),
          ),
        ),
      ),
    );
  },
  async load() {
    const params = new URLSearchParams({ limit: '100' });
    if (state.type) params.set('type', state.type);
    const [page, queues] = await Promise.all([
      api(`/v1/dead-letters?${params}`),
      state.types.length ? null : api('/v1/queues'),
    ]);
    state.jobs = page.jobs;
    if (queues) state.types = queues.queues.map((q) => q.type);
  },
  render() {
    const select = $('#dlq-type');
    if (select.options.length === 1) {
      select.append(...state.types.map((t) => h('option', { value: t }, t)));
      select.value = state.type;
    }
    const rows = state.jobs.map((j) =>
      h(
        'tr',
        { 'data-id': j.id },
        h('td', {}, jobLink(j.id)),
        h('td', {}, j.type),
        h('td', { class: 'num' }, `${j.attempt}/${j.maxAttempts}`),
        h('td', { class: 'num' }, j.replays),
        h('td', {}, ago(j.finishedAt)),
        h('td', {}, j.error ? `${j.error.class}: ${j.error.message.split('\n')[0]}` : '–'),
        h(
          'td',
          {},
          operateButton('Replay', () => replay([j.id]), { 'aria-label': `replay ${j.id}` }),
        ),
      ),
    );
    $('#dlq-count').textContent = state.jobs.length ? `(${state.jobs.length})` : '';
    $('#dlq-replay-all').disabled = state.jobs.length === 0;
    $('#dlq tbody').replaceChildren(
      ...(rows.length ? rows : [emptyRow(7, 'No dead-lettered jobs.')]),
    );
    $('#dlq-message').textContent = state.message;
  },
};
export default view;

async function replay(ids) {
  try {
    const res = await post('/v1/dead-letters/replay', { ids });
    state.message =
      `Replayed ${res.replayed}.` +
      (res.skipped.length
        ? ` Skipped: ${res.skipped.map((s) => `${s.id} (${s.code})`).join(', ')}`
        : '');
  } catch (err) {
    state.message = err.message;
  }
  await view.load();
  view.render();
}

function replayAll() {
  const ids = state.jobs.map((j) => j.id);
  if (ids.length && window.confirm(`Replay ${ids.length} dead-lettered job(s)?`)) void replay(ids);
}
