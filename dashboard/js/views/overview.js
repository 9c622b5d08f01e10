// Overview: queue cards, charts over the last hour (GET /v1/stats/history, a server-side sampler,
// so they survive a reload; new points appended by polling `since`), workers, recent decisions.
import { api, enc, post } from '../api.js';
import { chart } from '../charts.js';
import { $, ago, badge, clock, duration, emptyRow, h, link, operateButton } from '../dom.js';
import { idleTypes } from '../idle.js';

const KEEP = 720; // one hour at the sampler's 5 s
const state = {
  queues: [],
  workers: [],
  decisions: [],
  samples: [],
  charts: new Map(),
  // Types with nothing now nor in the last hour (idle.js), folded into one row unless expanded.
  idle: new Set(),
  showIdle: false,
};

const view = {
  title: () => 'Overview',
  events: ['worker', 'decision', 'jobs'],
  mount(root) {
    state.samples = [];
    state.charts = new Map();
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'h-queues' },
        h('h2', { id: 'h-queues' }, 'Queues'),
        h('div', { id: 'queues', class: 'cards' }, h('p', { class: 'empty' }, 'Loading…')),
        h(
          'details',
          {
            id: 'idle-types',
            class: 'idle-types',
            hidden: true,
            open: state.showIdle,
            ontoggle: (e) => {
              state.showIdle = e.target.open;
              renderCharts();
            },
          },
          h('summary', {}),
          h('div', { id: 'idle-cards', class: 'cards' }),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'h-charts' },
        h(
          'h2',
          { id: 'h-charts' },
          'Last hour ',
          h('span', { class: 'muted' }, 'sampled every 5 s'),
        ),
        h('div', { id: 'charts', class: 'chart-rows' }),
      ),
      h(
        'div',
        { class: 'columns' },
        h(
          'section',
          { 'aria-labelledby': 'h-workers' },
          h(
            'h2',
            { id: 'h-workers' },
            'Workers ',
            h('span', { id: 'workers-count', class: 'muted' }),
          ),
          h(
            'div',
            { class: 'scroll' },
            h(
              'table',
              { id: 'workers' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ...['id', 'type', 'state', 'jobs', 'pid', 'started', 'idle for'].map((t, i) =>
                    h('th', { class: i > 2 ? 'num' : null, scope: 'col' }, t),
                  ),
                ),
              ),
              h('tbody'),
            ),
          ),
        ),
        h(
          'section',
          { 'aria-labelledby': 'h-decisions' },
          h(
            'h2',
            { id: 'h-decisions' },
            'Recent scaling decisions ',
            link('scaling', 'timeline →'),
          ),
          h('ol', { id: 'decisions', class: 'decisions' }),
        ),
      ),
    );
  },
  unmount() {
    for (const c of state.charts.values()) c.forEach((x) => x.destroy());
    state.charts.clear();
  },
  async load() {
    const since = state.samples.at(-1)?.at;
    const [q, w, d, hist] = await Promise.all([
      api('/v1/queues'),
      api('/v1/workers'),
      api('/v1/scaling/decisions?limit=8'),
      api(`/v1/stats/history${since ? `?since=${since + 1}` : ''}`),
    ]);
    state.queues = q.queues;
    state.workers = w.workers.filter((x) => x.state !== 'stopped');
    state.decisions = d.decisions;
    state.samples = [...state.samples, ...hist.samples].slice(-KEEP);
  },
  render() {
    state.idle = idleTypes(state.queues, state.samples);
    renderQueues();
    renderCharts();
    renderWorkers();
    renderDecisions();
  },
};
export default view;

/** Pauses or resumes a type (POST /v1/types/:type/pause|resume), then shows the queues again. */
async function setPaused(type, paused) {
  try {
    await post(`/v1/types/${enc(type)}/${paused ? 'pause' : 'resume'}`);
  } catch (err) {
    window.alert(err.message);
  }
  await view.load();
  view.render();
}

function renderQueues() {
  const card = (q) => {
    const w = q.workers;
    const total = w.starting + w.idle + w.busy + w.draining;
    return h(
      'article',
      { class: 'card', 'data-type': q.type, 'data-paused': String(Boolean(q.paused)) },
      h(
        'header',
        {},
        h('h3', {}, q.type, q.paused ? h('span', { class: 'badge s-paused' }, 'paused') : ''),
        h('span', { class: 'muted' }, `${q.mode} · ${q.queue}`),
      ),
      h(
        'div',
        { class: 'stats' },
        stat('ready', q.ready, q.ready > 0 ? 'hot' : ''),
        stat('in flight', q.inFlight),
        stat('delayed', q.delayed ?? 0),
      ),
      workerBar(w, q.max),
      h(
        'p',
        { class: 'scale' },
        `workers ${total} · desired ${q.desired} · min–max ${q.min}–${q.max}`,
      ),
      h(
        'p',
        { class: 'muted' },
        link(`jobs?type=${encodeURIComponent(q.type)}`, 'jobs'),
        q.oldestReadyAt ? ` · oldest ready ${ago(q.oldestReadyAt)}` : '',
        ' ',
        operateButton(q.paused ? 'Resume' : 'Pause', () => setPaused(q.type, !q.paused), {
          class: 'operate small',
          'aria-label': `${q.paused ? 'resume' : 'pause'} ${q.type}`,
          title: q.paused
            ? 'start its jobs again'
            : 'take submissions but start none of its jobs until resumed',
        }),
      ),
    );
  };
  const busy = state.queues.filter((q) => !state.idle.has(q.type));
  const idle = state.queues.filter((q) => state.idle.has(q.type));
  const empty = state.queues.length ? 'Every job type is idle.' : 'No job types configured.';
  $('#queues').replaceChildren(
    ...(busy.length ? busy.map(card) : [h('p', { class: 'empty' }, empty)]),
  );
  const folded = $('#idle-types');
  folded.hidden = idle.length === 0;
  $('summary', folded).replaceChildren(
    h('strong', {}, `${idle.length} idle type${idle.length === 1 ? '' : 's'}`),
    ': ',
    idle.map((q) => q.type).join(', '),
    h('span', { class: 'muted' }, ' — nothing queued, running or ended in the last hour'),
  );
  $('#idle-cards').replaceChildren(...idle.map(card));
}

const stat = (label, value, cls = '') =>
  h('div', { class: `stat ${cls}` }, h('strong', {}, value), h('span', {}, label));

/** Workers per state as one stacked bar out of the type's max. */
function workerBar(w, max) {
  const used = w.starting + w.idle + w.busy + w.draining;
  const seg = (n, cls) =>
    n > 0 ? h('span', { class: `seg ${cls}`, style: `flex:${n}`, title: `${n} ${cls}` }) : null;
  return h(
    'div',
    {},
    h(
      'div',
      {
        class: 'bar',
        role: 'img',
        'aria-label': `workers: ${w.busy} busy, ${w.idle} idle, ${w.starting} starting, ${w.draining} draining`,
      },
      seg(w.busy, 'busy'),
      seg(w.idle, 'idle'),
      seg(w.starting, 'starting'),
      seg(w.draining, 'draining'),
      seg(Math.max(max, used, 1) - used, 'free'),
    ),
    h(
      'div',
      { class: 'legend' },
      ...['starting', 'idle', 'busy', 'draining'].map((s) =>
        h('span', { class: `dot ${s}` }, `${w[s]} ${s}`),
      ),
    ),
  );
}

const GROUPS = [
  [
    'Queue depth',
    [
      ['ready', 'ready'],
      ['inFlight', 'in flight'],
    ],
    false,
  ],
  [
    'Throughput per minute',
    [
      ['finished', 'finished'],
      ['failed', 'failed'],
    ],
    false,
  ],
  [
    'Workers by state',
    [
      ['starting', 'starting'],
      ['idle', 'idle'],
      ['busy', 'busy'],
      ['draining', 'draining'],
    ],
    true,
  ],
];

function column(type, key) {
  return state.samples.map((s) => {
    const t = s.types[type];
    if (!t) return 0;
    if (key === 'finished') return t.finishedPerMin;
    if (key === 'failed') return t.failedPerMin;
    if (key in t.workers) return t.workers[key];
    return t[key] ?? 0;
  });
}

function renderCharts() {
  const types = state.queues.map((q) => q.type);
  const box = $('#charts');
  if (!box) return;
  const width = Math.max(240, Math.floor((box.clientWidth - 90) / 3));
  for (const type of types) {
    const shown = state.showIdle || !state.idle.has(type);
    const row = box.querySelector(`.chart-row[data-type="${window.CSS.escape(type)}"]`);
    if (row) row.hidden = !shown;
    // An idle type's charts are made only when they are shown.
    if (state.charts.has(type) || !shown) continue;
    const charts = GROUPS.map(([title, series, stacked]) =>
      chart(`${title} — ${type}`, series, { stacked, width }),
    );
    box.append(
      h(
        'div',
        { class: 'chart-row', 'data-type': type },
        h('h3', {}, type),
        h('div', { class: 'chart-group' }, ...charts.map((c) => c.figure)),
      ),
    );
    state.charts.set(type, charts);
  }
  const xs = state.samples.map((s) => s.at);
  for (const [type, charts] of state.charts) {
    GROUPS.forEach(([, series], i) =>
      charts[i].update(
        xs,
        series.map(([key]) => column(type, key)),
      ),
    );
  }
  if (!types.length) box.replaceChildren(h('p', { class: 'empty' }, 'No job types configured.'));
}

function renderWorkers() {
  $('#workers-count').textContent = `(${state.workers.length})`;
  const rows = state.workers.map((w) =>
    h(
      'tr',
      {},
      h('td', { class: 'mono' }, w.id),
      h('td', {}, w.type),
      h('td', {}, badge(w.state)),
      h('td', { class: 'num' }, `${w.active}/${w.concurrency}`),
      h('td', { class: 'num' }, w.pid ?? '–'),
      h('td', { class: 'num' }, ago(w.startedAt)),
      h('td', { class: 'num' }, w.state === 'idle' ? duration(Date.now() - w.idleSince) : '–'),
    ),
  );
  $('#workers tbody').replaceChildren(
    ...(rows.length ? rows : [emptyRow(7, 'No workers running.')]),
  );
}

function renderDecisions() {
  const items = state.decisions.map((d) =>
    h(
      'li',
      {},
      h('span', { class: 'muted' }, clock(d.at)),
      h('strong', {}, d.type),
      h(
        'span',
        { class: d.to > d.from ? 'up' : d.to < d.from ? 'down' : '' },
        `${d.from} → ${d.to}`,
      ),
      h('span', { class: 'reason' }, d.reason),
    ),
  );
  $('#decisions').replaceChildren(
    ...(items.length ? items : [h('li', { class: 'empty' }, 'No decisions yet.')]),
  );
}
