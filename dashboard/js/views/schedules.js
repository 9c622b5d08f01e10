// Cron schedules (GET /v1/schedules): each with its cron, the type it submits, its next run, its
// last run and that run's job; operators pause, resume and trigger one (POST
// /v1/schedules/:name/pause|resume|trigger). docs/schedules.md.
import { api, enc, post } from '../api.js';
import { $, ago, emptyRow, h, jobLink, operateButton, when } from '../dom.js';

const state = { schedules: [], message: '' };

const view = {
  title: () => 'Schedules',
  events: ['jobs'],
  mount(root) {
    state.message = '';
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'h-schedules' },
        h(
          'h2',
          { id: 'h-schedules' },
          'Schedules ',
          h('span', { id: 'schedules-count', class: 'muted' }),
        ),
        h('p', { id: 'schedules-message', role: 'status' }),
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { id: 'schedules' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['name', 'cron', 'type', 'next run', 'last run', 'last job', 'source', ''].map(
                  (t) => h('th', { scope: 'col' }, t),
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
    state.schedules = (await api('/v1/schedules')).schedules;
  },
  render() {
    const rows = state.schedules.map((s) =>
      h(
        'tr',
        { 'data-name': s.name, 'data-paused': String(s.paused) },
        h('td', { class: 'mono' }, s.name),
        h(
          'td',
          { class: 'mono' },
          s.definition.cron,
          s.definition.timezone ? h('span', { class: 'muted' }, ` ${s.definition.timezone}`) : '',
        ),
        h('td', {}, s.definition.submit.type),
        h(
          'td',
          {},
          s.paused ? h('span', { class: 'badge s-paused' }, 'paused') : when(s.nextRunAt),
        ),
        h('td', {}, s.lastRun ? ago(s.lastRun.at) : '–'),
        h('td', {}, s.lastRun ? jobLink(s.lastRun.jobId) : '–'),
        h('td', {}, s.source),
        h(
          'td',
          { class: 'actions' },
          operateButton(
            s.paused ? 'Resume' : 'Pause',
            () => act(s, s.paused ? 'resume' : 'pause'),
            {
              'aria-label': `${s.paused ? 'resume' : 'pause'} ${s.name}`,
            },
          ),
          operateButton('Trigger', () => act(s, 'trigger'), { 'aria-label': `trigger ${s.name}` }),
        ),
      ),
    );
    $('#schedules-count').textContent = rows.length ? `(${rows.length})` : '';
    $('#schedules tbody').replaceChildren(
      ...(rows.length
        ? rows
        : [emptyRow(8, 'No schedules (the config’s `schedules`, or PUT /v1/schedules/:name).')]),
    );
    $('#schedules-message').textContent = state.message;
  },
};
export default view;

async function act(schedule, verb) {
  try {
    const res = await post(`/v1/schedules/${enc(schedule.name)}/${verb}`);
    state.message =
      verb === 'trigger'
        ? `Triggered ${schedule.name}: job ${res.job.id}.`
        : `${schedule.name} ${verb === 'pause' ? 'paused' : 'resumed'}.`;
  } catch (err) {
    state.message = err.message;
  }
  await view.load();
  view.render();
}
