// Scaling timeline: every autoscaler decision (GET /v1/scaling/decisions, live through the SSE
// `decision` event) on a time axis, one lane per type, with from → to and its reason; filter by type.
import { api } from '../api.js';
import { $, clock, h } from '../dom.js';

const state = { decisions: [], types: [], type: '' };

const view = {
  title: () => 'Scaling',
  events: ['decision'],
  mount(root) {
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'h-scaling' },
        h('h2', { id: 'h-scaling' }, 'Scaling timeline'),
        h(
          'form',
          { class: 'filters', onsubmit: (e) => e.preventDefault() },
          h('label', { for: 'scaling-type' }, 'type'),
          h(
            'select',
            {
              id: 'scaling-type',
              oninput: async (e) => {
                state.type = e.target.value;
                await view.load();
                view.render();
              },
            },
            h('option', { value: '' }, 'all'),
          ),
        ),
        h('div', {
          id: 'timeline',
          class: 'timeline',
          role: 'img',
          'aria-label': 'decisions over time per type',
        }),
        h('h3', {}, 'Decisions, newest first'),
        h('ol', { id: 'decision-list', class: 'decisions' }),
      ),
    );
  },
  async load() {
    const params = new URLSearchParams({ limit: '200' });
    if (state.type) params.set('type', state.type);
    const [d, queues] = await Promise.all([
      api(`/v1/scaling/decisions?${params}`),
      state.types.length ? null : api('/v1/queues'),
    ]);
    state.decisions = d.decisions;
    if (queues) state.types = queues.queues.map((q) => q.type);
  },
  render() {
    const select = $('#scaling-type');
    if (select.options.length === 1) {
      select.append(...state.types.map((t) => h('option', { value: t }, t)));
    }
    renderTimeline();
    const items = state.decisions.map((d) =>
      h(
        'li',
        { 'data-type': d.type },
        h('time', { class: 'muted', datetime: new Date(d.at).toISOString() }, clock(d.at)),
        h('strong', {}, d.type),
        h(
          'span',
          { class: `change ${d.to > d.from ? 'up' : d.to < d.from ? 'down' : ''}` },
          `${d.from} → ${d.to}`,
        ),
        h('span', { class: 'reason' }, d.reason),
      ),
    );
    $('#decision-list').replaceChildren(
      ...(items.length ? items : [h('li', { class: 'empty' }, 'No decisions yet.')]),
    );
  },
};
export default view;

/** One lane per type; a marker per decision placed by time (newest at the right). */
function renderTimeline() {
  const list = state.decisions;
  const box = $('#timeline');
  if (!list.length) return box.replaceChildren(h('p', { class: 'empty' }, 'No decisions yet.'));
  const ats = list.map((d) => d.at);
  const min = Math.min(...ats);
  const span = Math.max(Math.max(...ats) - min, 1);
  const types = [...new Set(list.map((d) => d.type))].sort();
  const lanes = types.map((type) =>
    h(
      'div',
      { class: 'lane', 'data-type': type },
      h('span', { class: 'lane-label' }, type),
      h(
        'div',
        { class: 'lane-track' },
        ...list
          .filter((d) => d.type === type)
          .map((d) =>
            h(
              'span',
              {
                class: `mark ${d.to > d.from ? 'up' : d.to < d.from ? 'down' : ''}`,
                style: `left:${(((d.at - min) / span) * 100).toFixed(2)}%`,
                title: `${clock(d.at)} ${type}: ${d.from} → ${d.to} — ${d.reason}`,
              },
              String(d.to),
            ),
          ),
      ),
    ),
  );
  box.replaceChildren(
    ...lanes,
    h('div', { class: 'axis' }, h('span', {}, clock(min)), h('span', {}, clock(min + span))),
  );
}
