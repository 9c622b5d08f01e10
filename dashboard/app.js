// gaffer's dashboard: plain browser JavaScript (ES modules, no build step), a client of the public
// HTTP API only (docs/http-api.md). Views are hash routes (#/jobs/<id>); each view loads what it
// shows and is refreshed, at most twice a second, when GET /v1/events (server-sent events) says
// something it shows changed, and by polling every 2 s as a fallback.
/* global setTimeout */
import { $, $$ } from './js/dom.js';
import { onUnauthorized } from './js/api.js';
import { initSession, showLogin } from './js/session.js';
import overview from './js/views/overview.js';
import jobs from './js/views/jobs.js';
import job from './js/views/job.js';
import batches from './js/views/batches.js';
import batch from './js/views/batch.js';
import deadLetters from './js/views/dead-letters.js';
import scaling from './js/views/scaling.js';
import schedules from './js/views/schedules.js';
import config from './js/views/config.js';

const REDRAW_MS = 500;
const POLL_MS = 2000;

/** Route table: first path segment (and whether an id follows) → view. */
function resolve(hash) {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [head = '', ...rest] = path.split('/').filter(Boolean);
  const id = rest.length ? decodeURIComponent(rest.join('/')) : null;
  const params = { id, query: new URLSearchParams(query) };
  const table = {
    '': [overview, 'overview'],
    jobs: [id ? job : jobs, 'jobs'],
    batches: [id ? batch : batches, 'batches'],
    'dead-letters': [deadLetters, 'dead-letters'],
    scaling: [scaling, 'scaling'],
    schedules: [schedules, 'schedules'],
    config: [config, 'config'],
  };
  const [view, nav] = table[head] ?? [overview, 'overview'];
  return { view, nav, params };
}

let current = null; // { view, params }
let timer = null;
let lastFlush = 0;
let live = false;

async function route() {
  const { view, nav, params } = resolve(window.location.hash);
  current?.view.unmount?.();
  const root = $('#view');
  root.replaceChildren();
  current = { view, params };
  for (const a of $$('[data-nav]')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${view.title(params)} · gaffer`;
  view.mount(root, params);
  await refresh();
}

/** Asks the current view to reload, at most every REDRAW_MS. */
export function mark() {
  if (timer) return;
  timer = setTimeout(refresh, Math.max(0, lastFlush + REDRAW_MS - Date.now()));
}

async function refresh() {
  timer = null;
  lastFlush = Date.now();
  const at = current;
  if (!at) return;
  try {
    await at.view.load(at.params);
    if (current !== at) return;
    at.view.render(at.params);
    if ($('#conn').dataset.state === 'error') setConn(live ? 'live' : 'polling');
    document.body.dataset.loaded = 'true';
  } catch (err) {
    if (err.status !== 401) setConn('error', err.message);
  }
}

function setConn(kind, text = kind) {
  const c = $('#conn');
  c.dataset.state = kind;
  c.textContent = text;
}

/** SSE names each view cares about: `view.events`; a view may also take the event itself. */
function connectEvents() {
  const es = new EventSource('/v1/events');
  es.onopen = () => ((live = true), setConn('live'));
  es.onerror = () => ((live = false), setConn('polling', 'reconnecting… (polling)'));
  for (const name of ['jobs', 'worker', 'decision', 'batch']) {
    es.addEventListener(name, (e) => {
      const view = current?.view;
      if (!view) return;
      const data = JSON.parse(e.data);
      view.onEvent?.(name, data, current.params);
      if (view.events?.includes(name)) mark();
    });
  }
  return es;
}

async function start() {
  let events = null;
  onUnauthorized(() => showLogin());
  window.addEventListener('hashchange', route);
  window.addEventListener('gaffer:login', () => {
    events?.close();
    events = connectEvents();
    void route();
  });
  const ok = await initSession();
  if (ok) events = connectEvents();
  await route();
  setInterval(() => {
    if (current?.view.poll !== false) mark();
  }, POLL_MS);
}

void start();
