// gaffer's dashboard: plain browser JavaScript, a client of the HTTP API only (docs/http-api.md).
// Live through GET /v1/events (server-sent events), redrawing at most twice a second, with
// GET /v1/queues polled every 2 s as a fallback.
/* global FormData, XMLHttpRequest, setTimeout */

const REDRAW_MS = 500;
const POLL_MS = 2000;
const TERMINAL = new Set(['succeeded', 'failed', 'timed_out', 'cancelled', 'dead_lettered']);

const state = {
  queues: [],
  workers: [],
  decisions: [],
  jobs: [],
  deadLetters: [], // the dead-letter queue, newest first (filtered by type)
  job: null, // the job open in the detail panel
  logs: [],
  batchId: null,
  batch: null,
};

const $ = (sel) => document.querySelector(sel);

// ---- tiny DOM and format helpers

/** Builds an element; text goes in as text nodes, never as HTML. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) node.append(c instanceof window.Node ? c : String(c));
  }
  return node;
}

/** A job's "why am I waiting?" (GET /v1/jobs/:id `waiting`) as one line. */
function waitingText(w) {
  const eta =
    w.estimatedStartAt === null
      ? ''
      : `, starts in ~${duration(Math.max(0, w.estimatedStartAt - Date.now()))}`;
  return `${w.reason}: ${w.message} (position ${w.position}${eta})`;
}

function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.floor(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

const ago = (at) => (at ? `${duration(Date.now() - at)} ago` : '–');
const clock = (at) => new Date(at).toLocaleTimeString();
const badge = (s) => h('span', { class: `badge s-${s}` }, s.replace('_', ' '));

// ---- API

async function api(path, init) {
  const res = await fetch(path, init);
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) {
    const err = body?.error ?? { code: `HTTP_${res.status}`, message: res.statusText };
    throw new Error(`${err.code}: ${err.message}`);
  }
  return body;
}

async function loadQueues() {
  const [q, w] = await Promise.all([api('/v1/queues'), api('/v1/workers')]);
  state.queues = q.queues;
  state.workers = w.workers.filter((x) => x.state !== 'stopped');
}

async function loadDecisions() {
  state.decisions = (await api('/v1/scaling/decisions?limit=15')).decisions;
}

async function loadJobs() {
  const form = new FormData($('#job-filter'));
  const params = new URLSearchParams({ limit: '20' });
  for (const [k, v] of form) if (v) params.set(k, String(v));
  state.jobs = (await api(`/v1/jobs?${params}`)).jobs;
}

async function loadDeadLetters() {
  const type = new FormData($('#dlq-filter')).get('type');
  const params = new URLSearchParams({ limit: '50' });
  if (type) params.set('type', String(type));
  state.deadLetters = (await api(`/v1/dead-letters?${params}`)).jobs;
}

async function loadJob() {
  if (!state.job) return;
  const id = state.job.id;
  const last = state.logs.at(-1);
  const [j, l] = await Promise.all([
    api(`/v1/jobs/${encodeURIComponent(id)}`),
    api(`/v1/jobs/${encodeURIComponent(id)}/logs${last ? `?after=${last.seq}` : ''}`),
  ]);
  if (state.job?.id !== id) return;
  state.job = j.job;
  state.logs.push(...l.lines);
}

async function loadBatch() {
  if (state.batchId) state.batch = (await api(`/v1/batches/${state.batchId}`)).batch;
}

// ---- rendering

function renderQueues() {
  const cards = state.queues.map((q) => {
    const w = q.workers;
    const total = w.starting + w.idle + w.busy + w.draining;
    return h(
      'article',
      { class: 'card' },
      h('header', {}, h('h3', {}, q.type), h('span', { class: 'muted' }, `${q.mode} · ${q.queue}`)),
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
      q.oldestReadyAt ? h('p', { class: 'muted' }, `oldest ready ${ago(q.oldestReadyAt)}`) : null,
    );
  });
  $('#queues').replaceChildren(
    ...(cards.length ? cards : [h('p', { class: 'empty' }, 'No job types configured.')]),
  );
  fillTypeSelects();
}

function stat(label, value, cls = '') {
  return h('div', { class: `stat ${cls}` }, h('strong', {}, value), h('span', {}, label));
}

/** One segment per worker state, out of the type's max. */
function workerBar(w, max) {
  const slots = Math.max(max, w.starting + w.idle + w.busy + w.draining, 1);
  const seg = (n, cls) =>
    n > 0 ? h('span', { class: `seg ${cls}`, style: `flex:${n}`, title: `${n} ${cls}` }) : null;
  const rest = slots - (w.starting + w.idle + w.busy + w.draining);
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'bar' },
      seg(w.busy, 'busy'),
      seg(w.idle, 'idle'),
      seg(w.starting, 'starting'),
      seg(w.draining, 'draining'),
      seg(rest, 'free'),
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

function fillTypeSelects() {
  const types = state.queues.map((q) => q.type);
  for (const select of document.querySelectorAll('select[name=type]')) {
    const have = [...select.options].slice(1).map((o) => o.value);
    if (have.join() === types.join()) continue;
    const keep = select.value;
    select.replaceChildren(select.options[0], ...types.map((t) => h('option', { value: t }, t)));
    select.value = keep;
  }
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
      d.retire?.length
        ? h('span', { class: 'muted', title: d.retire.join(', ') }, `retires ${d.retire.length}`)
        : null,
    ),
  );
  $('#decisions').replaceChildren(
    ...(items.length ? items : [h('li', { class: 'empty' }, 'No decisions yet.')]),
  );
}

function renderJobs() {
  const rows = state.jobs.map((j) =>
    h(
      'tr',
      { onclick: () => openJob(j), class: state.job?.id === j.id ? 'selected' : null },
      h('td', { class: 'mono' }, j.id),
      h('td', {}, j.type),
      h('td', {}, badge(j.state)),
      h('td', { class: 'num' }, `${j.attempt}/${j.maxAttempts}`),
      h('td', { class: 'num' }, j.priority),
      h('td', { class: 'num' }, ago(j.createdAt)),
      h(
        'td',
        { class: 'num' },
        j.startedAt ? duration((j.finishedAt ?? Date.now()) - j.startedAt) : '–',
      ),
    ),
  );
  $('#jobs tbody').replaceChildren(...(rows.length ? rows : [emptyRow(7, 'No jobs yet.')]));
}

function renderDeadLetters() {
  const rows = state.deadLetters.map((j) =>
    h(
      'tr',
      { onclick: () => openJob(j), class: state.job?.id === j.id ? 'selected' : null },
      h('td', { class: 'mono' }, j.id),
      h('td', {}, j.type),
      h('td', { class: 'num' }, `${j.attempt}/${j.maxAttempts}`),
      h('td', { class: 'num' }, j.replays),
      h('td', {}, j.error ? `${j.error.class}: ${j.error.message.split('\n')[0]}` : '–'),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            onclick: (e) => (e.stopPropagation(), replay([j.id])),
          },
          'Replay',
        ),
      ),
    ),
  );
  $('#dlq-count').textContent = state.deadLetters.length ? `(${state.deadLetters.length})` : '';
  $('#dlq-replay-all').disabled = state.deadLetters.length === 0;
  $('#dlq tbody').replaceChildren(
    ...(rows.length ? rows : [emptyRow(6, 'No dead-lettered jobs.')]),
  );
}

/** Replays the listed dead-lettered jobs (a fresh run each); reports any skipped. */
async function replay(ids) {
  try {
    const res = await api('/v1/dead-letters/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids }),
    });
    if (res.skipped.length) {
      window.alert(res.skipped.map((s) => `${s.id}: ${s.code}`).join('\n'));
    }
  } catch (err) {
    window.alert(err.message);
  }
  mark('deadLetters', 'jobs', 'queues');
}

const emptyRow = (span, text) => h('tr', {}, h('td', { colspan: span, class: 'empty' }, text));

function renderJob() {
  const j = state.job;
  $('#detail').hidden = !j;
  if (!j) return;
  $('#detail-title').replaceChildren(
    `Job `,
    h('span', { class: 'mono' }, j.id),
    ' ',
    badge(j.state),
  );
  const fields = [
    ['type', `${j.type} (queue ${j.queue})`],
    ['attempt', `${j.attempt} of ${j.maxAttempts}`],
    ['priority', j.priority],
    ['created', new Date(j.createdAt).toLocaleString()],
    ['started', j.startedAt ? new Date(j.startedAt).toLocaleString() : '–'],
    ['ran', j.startedAt ? duration((j.finishedAt ?? Date.now()) - j.startedAt) : '–'],
    ['timeout', duration(j.timeoutMs)],
    ['batch', j.batchId],
    ['routed', j.routeReason],
    ['worker', j.leaseOwner],
    ['waiting', j.waiting ? waitingText(j.waiting) : null],
  ].filter(([, v]) => v !== null && v !== undefined);
  $('#detail-fields').replaceChildren(
    ...fields.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
  const block = (title, value, cls = '') => [
    h('h3', {}, title),
    h('pre', { class: cls }, JSON.stringify(value, null, 2)),
  ];
  $('#detail-blocks').replaceChildren(
    ...(j.error
      ? [h('h3', {}, `Error (${j.error.class})`), h('pre', { class: 'error' }, j.error.message)]
      : []),
    ...(j.result !== null && j.result !== undefined ? block('Result', j.result) : []),
    ...block('Payload', j.payload),
    ...(Object.keys(j.attributes ?? {}).length ? block('Attributes', j.attributes) : []),
  );
  const logs = state.logs.map((l) =>
    h('span', { class: l.stream }, l.data.endsWith('\n') ? l.data : `${l.data}\n`),
  );
  $('#detail-logs').replaceChildren(...(logs.length ? logs : ['(no log lines)']));
  $('#detail-cancel').disabled = TERMINAL.has(j.state);
  $('#detail-retry').disabled = !TERMINAL.has(j.state) || j.state === 'succeeded';
}

const endedOf = (b) => [...TERMINAL].reduce((n, s) => n + (b.byState?.[s] ?? 0), 0);

function renderBatch() {
  const b = state.batch;
  if (!b) return;
  const ended = endedOf(b);
  const pct = b.accepted ? Math.floor((ended / b.accepted) * 100) : 100;
  const states = Object.entries(b.byState ?? {}).filter(([, n]) => n > 0);
  $('#upload-label').textContent =
    `batch ${b.id}: ${ended} of ${b.accepted} ended (${pct}%)${b.done ? '' : ', ingesting…'}`;
  $('#upload-progress').value = pct;
  $('#batch').replaceChildren(
    h(
      'p',
      {},
      `${b.accepted} accepted, ${b.rejected} rejected `,
      b.rejected
        ? h('a', { href: `/v1/batches/${b.id}/rejected` }, 'download rejected rows')
        : null,
    ),
    h('p', {}, ...states.map(([s, n]) => h('span', { class: 'pair' }, badge(s), ` ${n}`))),
  );
}

// ---- actions

async function openJob(job) {
  state.job = job;
  state.logs = [];
  renderJob();
  renderJobs();
  await refresh('job');
}

async function jobAction(verb) {
  if (!state.job) return;
  try {
    state.job = (
      await api(`/v1/jobs/${encodeURIComponent(state.job.id)}/${verb}`, { method: 'POST' })
    ).job;
  } catch (err) {
    window.alert(err.message);
  }
  renderJob();
  mark('jobs');
}

/** Uploads with XMLHttpRequest, which (unlike fetch) reports upload progress. */
function upload(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const type = form.get('type');
  const body = new FormData();
  body.append('file', form.get('file'));
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `/v1/batches${type ? `?type=${encodeURIComponent(type)}` : ''}`);
  $('#upload-status').hidden = false;
  $('#batch').replaceChildren();
  xhr.upload.onprogress = (e) => {
    const pct = e.lengthComputable ? Math.floor((e.loaded / e.total) * 100) : 0;
    $('#upload-label').textContent = pct < 100 ? `uploading ${pct}%` : 'ingesting rows…';
    $('#upload-progress').value = pct;
  };
  xhr.onload = () => {
    let res;
    try {
      res = JSON.parse(xhr.responseText || '{}');
    } catch {
      res = { error: { message: xhr.responseText.slice(0, 200) } };
    }
    if (xhr.status >= 300) {
      $('#upload-label').textContent =
        `upload failed: ${res.error?.code ?? xhr.status}: ${res.error?.message ?? ''}`;
      return;
    }
    state.batchId = res.batch.id;
    state.batch = res.batch;
    renderBatch();
    mark('jobs', 'batch');
  };
  xhr.onerror = () => ($('#upload-label').textContent = 'upload failed: network error');
  xhr.send(body);
}

// ---- refresh scheduling: parts are marked dirty and redrawn together, at most every REDRAW_MS

const parts = {
  queues: [loadQueues, () => (renderQueues(), renderWorkers())],
  decisions: [loadDecisions, renderDecisions],
  jobs: [loadJobs, renderJobs],
  deadLetters: [loadDeadLetters, renderDeadLetters],
  job: [loadJob, renderJob],
  batch: [loadBatch, renderBatch],
};
const dirty = new Set();
let timer = null;
let lastFlush = 0;
let live = false; // the event stream is open

function mark(...names) {
  for (const n of names) dirty.add(n);
  if (timer) return;
  timer = setTimeout(flush, Math.max(0, lastFlush + REDRAW_MS - Date.now()));
}

async function flush() {
  timer = null;
  lastFlush = Date.now();
  const names = [...dirty];
  dirty.clear();
  await Promise.all(names.map(refresh));
}

async function refresh(name) {
  const [load, render] = parts[name];
  try {
    await load();
    render();
    $('#updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    if ($('#conn').dataset.state === 'error') {
      setConn(live ? 'live' : 'polling', live ? 'live' : 'polling');
    }
  } catch (err) {
    setConn('error', err.message);
  }
}

function setConn(kind, text) {
  const c = $('#conn');
  c.dataset.state = kind;
  c.textContent = text;
}

function connectEvents() {
  const es = new EventSource('/v1/events');
  es.onopen = () => ((live = true), setConn('live', 'live'));
  es.onerror = () => ((live = false), setConn('polling', 'reconnecting… (polling)'));
  const onJobs = (e) => {
    mark('jobs', 'queues', 'deadLetters');
    const data = JSON.parse(e.data); // `jobs`: { changed, sample: [job] }; `job`: one job
    const ids = data.sample?.map((s) => s.id) ?? [data.id];
    if (state.job && (!TERMINAL.has(state.job.state) || ids.includes(state.job.id))) mark('job');
    if (state.batchId) mark('batch');
  };
  es.addEventListener('jobs', onJobs);
  es.addEventListener('job', onJobs);
  es.addEventListener('worker', () => mark('queues'));
  es.addEventListener('decision', () => mark('decisions', 'queues'));
  es.addEventListener('batch', () => mark('batch', 'jobs'));
}

function start() {
  $('#job-filter').addEventListener('input', () => mark('jobs'));
  $('#job-filter').addEventListener('submit', (e) => e.preventDefault());
  $('#dlq-filter').addEventListener('input', () => mark('deadLetters'));
  $('#dlq-filter').addEventListener('submit', (e) => e.preventDefault());
  $('#dlq-replay-all').addEventListener('click', () => {
    const ids = state.deadLetters.map((j) => j.id);
    if (ids.length && window.confirm(`Replay ${ids.length} dead-lettered job(s)?`)) replay(ids);
  });
  $('#upload').addEventListener('submit', upload);
  $('#detail-close').addEventListener(
    'click',
    () => ((state.job = null), renderJob(), renderJobs()),
  );
  $('#detail-cancel').addEventListener('click', () => jobAction('cancel'));
  $('#detail-retry').addEventListener('click', () => jobAction('retry'));
  connectEvents();
  mark('queues', 'decisions', 'jobs', 'deadLetters');
  setInterval(() => {
    mark('queues');
    if (state.job && !TERMINAL.has(state.job.state)) mark('job');
    const b = state.batch;
    if (b && (!b.done || endedOf(b) < b.accepted)) mark('batch');
  }, POLL_MS);
}

start();
