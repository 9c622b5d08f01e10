// One job (#/jobs/<id>): its fields, payload, attempts, result or error, why it waits, and its log
// followed live (GET /v1/jobs/:id/logs?after=<seq> on each change and poll), cancel and retry.
//
// Attempts: every ended attempt from GET /v1/jobs/:id/attempts (oldest first, stored with the
// state change that ended it), then, while the job runs, its current attempt from the job record.
import { api, enc, post } from '../api.js';
import {
  $,
  TERMINAL,
  badge,
  duration,
  h,
  jobStateBadge,
  link,
  operateButton,
  when,
  yaml,
} from '../dom.js';

const state = { id: null, job: null, attempts: [], logs: [], lastSeq: 0, error: null };

const view = {
  title: (p) => `Job ${p.id}`,
  events: ['jobs'],
  mount(root, params) {
    Object.assign(state, {
      id: params.id,
      job: null,
      attempts: [],
      logs: [],
      lastSeq: 0,
      error: null,
    });
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'job-title', class: 'job-page' },
        h('p', {}, link('jobs', '← Jobs')),
        h(
          'header',
          { class: 'page-head' },
          h(
            'h2',
            { id: 'job-title' },
            'Job ',
            h('span', { class: 'mono' }, params.id),
            ' ',
            h('span', { id: 'job-state' }),
          ),
          h(
            'span',
            { class: 'actions' },
            operateButton('Cancel', () => act('cancel'), { id: 'job-cancel' }),
            operateButton('Retry', () => act('retry'), { id: 'job-retry' }),
          ),
        ),
        h('p', { id: 'job-message', class: 'error', role: 'alert' }),
        h('dl', { id: 'job-fields', class: 'fields' }),
        h('div', { id: 'job-waiting' }),
        h('h3', {}, 'Attempts'),
        h(
          'table',
          { id: 'job-attempts' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['attempt', 'worker', 'started', 'ended', 'duration', 'outcome', 'error'].map(
                (t) => h('th', { scope: 'col' }, t),
              ),
            ),
          ),
          h('tbody'),
        ),
        h(
          'div',
          { class: 'columns' },
          h('div', { id: 'job-payload' }),
          h('div', { id: 'job-result' }),
        ),
        h('h3', {}, 'Log ', h('span', { id: 'log-follow', class: 'muted' })),
        h('pre', { id: 'job-log', class: 'logs', tabindex: '0', 'aria-label': 'job log' }),
      ),
    );
  },
  async load() {
    const id = state.id;
    try {
      const [j, a, l] = await Promise.all([
        api(`/v1/jobs/${enc(id)}`),
        api(`/v1/jobs/${enc(id)}/attempts`),
        api(`/v1/jobs/${enc(id)}/logs${state.lastSeq ? `?after=${state.lastSeq}` : ''}`),
      ]);
      if (state.id !== id) return;
      state.job = j.job;
      state.attempts = a.attempts;
      state.error = null;
      const fresh = l.lines.filter((x) => x.seq > state.lastSeq);
      state.logs.push(...fresh);
      if (fresh.length) state.lastSeq = fresh.at(-1).seq;
    } catch (err) {
      if (err.status === 404) state.error = `No job ${id}.`;
      else throw err;
    }
  },
  render() {
    $('#job-message').textContent = state.error ?? '';
    const j = state.job;
    if (!j) return;
    $('#job-state').replaceChildren(jobStateBadge(j));
    const fields = [
      ['type', `${j.type} (queue ${j.queue})`],
      ['attempt', `${j.attempt} of ${j.maxAttempts}${j.replays ? `, requeued ${j.replays}×` : ''}`],
      ['priority', j.priority],
      ['created', when(j.createdAt)],
      ['run at', when(j.runAt)],
      ['ran for', j.startedAt ? duration((j.finishedAt ?? Date.now()) - j.startedAt) : '–'],
      ['timeout', duration(j.timeoutMs)],
      ['batch', j.batchId ? link(`batches/${enc(j.batchId)}`, j.batchId, { class: 'mono' }) : null],
      ['idempotency key', j.idempotencyKey],
      ['routed', j.routeReason],
    ].filter(([, v]) => v !== null && v !== undefined);
    $('#job-fields').replaceChildren(
      ...fields.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    );
    $('#job-waiting').replaceChildren(
      ...(j.waiting
        ? [
            h('h3', {}, 'Why is it waiting?'),
            h('p', { class: 'waiting', id: 'job-why' }, waitingText(j.waiting)),
          ]
        : []),
    );
    $('#job-attempts tbody').replaceChildren(...attemptRows(state.attempts, j));
    $('#job-payload').replaceChildren(
      h('h3', {}, 'Payload'),
      h('pre', { id: 'job-payload-text' }, JSON.stringify(j.payload, null, 2)),
    );
    $('#job-result').replaceChildren(
      ...(j.result !== null && j.result !== undefined
        ? [
            h('h3', {}, 'Result'),
            h('pre', { id: 'job-result-text' }, JSON.stringify(j.result, null, 2)),
          ]
        : []),
      ...(j.error
        ? [h('h3', {}, `Error (${j.error.class})`), h('pre', { class: 'error' }, j.error.message)]
        : []),
      ...(Object.keys(j.attributes ?? {}).length
        ? [h('h3', {}, 'Attributes'), h('pre', {}, yaml(j.attributes).trim())]
        : []),
    );
    renderLog();
    $('#job-cancel').disabled = TERMINAL.has(j.state);
    $('#job-retry').disabled = !TERMINAL.has(j.state) || j.state === 'succeeded';
  },
};

export default view;

/**
 * One row per ended attempt (`data-outcome`), then the attempt in flight (`data-outcome="running"`),
 * or a single "not started" row. A retried attempt's outcome says so.
 */
function attemptRows(attempts, j) {
  const row = (a, outcome, ended, error) =>
    h(
      'tr',
      { 'data-outcome': outcome },
      h('td', { class: 'num' }, a.replay ? `${a.attempt} (replay ${a.replay})` : String(a.attempt)),
      h('td', { class: 'mono' }, a.worker ?? '–'),
      h('td', {}, when(a.startedAt)),
      h('td', {}, ended ? when(ended) : '–'),
      h('td', { class: 'num' }, a.startedAt ? duration((ended ?? Date.now()) - a.startedAt) : '–'),
      h(
        'td',
        {},
        badge(outcome),
        a.jobState === 'queued' ? h('span', { class: 'muted' }, ' retried') : '',
      ),
      h('td', { class: 'error-cell' }, error ? errorText(error) : '–'),
    );
  const rows = attempts.map((a) => row(a, a.outcome, a.finishedAt, a.error));
  if (j.state === 'starting' || j.state === 'running') {
    const current = {
      replay: j.replays,
      attempt: j.attempt,
      worker: j.leaseOwner,
      startedAt: j.startedAt,
    };
    rows.push(row(current, j.state, null, null));
  }
  if (rows.length === 0) {
    rows.push(h('tr', {}, h('td', { colspan: '7', class: 'empty' }, 'not started')));
  }
  return rows;
}

/** An attempt's error: class, exit code or signal, message. */
function errorText(e) {
  const exit = [
    e.exitCode !== undefined && e.exitCode !== null ? `exit ${e.exitCode}` : '',
    e.signal ? `signal ${e.signal}` : '',
    e.workerLost ? 'worker lost' : '',
  ].filter(Boolean);
  return `${e.class}${exit.length ? ` (${exit.join(', ')})` : ''}: ${e.message}`;
}

/** "Why am I waiting?" (GET /v1/jobs/:id `waiting`) as one line, with the estimated start. */
function waitingText(w) {
  const eta =
    w.estimatedStartAt === null || w.estimatedStartAt === undefined
      ? ''
      : `, starts in ~${duration(Math.max(0, w.estimatedStartAt - Date.now()))}`;
  return `${w.reason}: ${w.message} (position ${w.position}${eta})`;
}

/** Appends only the new lines, keeping the reader's scroll unless they were at the bottom. */
function renderLog() {
  const pre = $('#job-log');
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  const shown = Number(pre.dataset.shown ?? 0);
  if (shown === 0) pre.replaceChildren();
  for (const l of state.logs.slice(shown)) {
    pre.append(h('span', { class: l.stream }, l.data.endsWith('\n') ? l.data : `${l.data}\n`));
  }
  pre.dataset.shown = String(state.logs.length);
  if (!state.logs.length) pre.textContent = '(no log lines yet)';
  if (atBottom) pre.scrollTop = pre.scrollHeight;
  const running = state.job && !TERMINAL.has(state.job.state);
  $('#log-follow').textContent = running ? 'following…' : '';
}

async function act(verb) {
  try {
    state.job = (await post(`/v1/jobs/${enc(state.id)}/${verb}`)).job;
    $('#job-message').textContent = '';
  } catch (err) {
    $('#job-message').textContent = err.message;
  }
  view.render();
}
