// DOM and formatting helpers shared by the views. Text always goes in as text nodes, never HTML.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/**
 * Builds an element: attributes (on* are listeners, style is set through the CSSOM), then
 * children (strings become text).
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    // Through the CSSOM: gaffer's Content-Security-Policy refuses inline style attributes.
    else if (k === 'style') node.style.cssText = String(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) {
      node.append(c instanceof window.Node ? c : String(c));
    }
  }
  return node;
}

export const TERMINAL = new Set(['succeeded', 'failed', 'timed_out', 'cancelled', 'dead_lettered']);
export const JOB_STATES = [
  'queued',
  'starting',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'dead_lettered',
  'expired',
];

/** The jobs filter's states: the stored ones, and `delayed` (queued, not due yet; a view). */
export const JOB_FILTER_STATES = [...JOB_STATES.slice(0, 1), 'delayed', ...JOB_STATES.slice(1)];

/** Queued but not due yet: a delayed submission or a retry's backoff. */
export const isDelayed = (j) => j.state === 'queued' && j.runAt > Date.now();

export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.floor(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

export const ago = (at) => (at ? `${duration(Date.now() - at)} ago` : '–');
export const clock = (at) => (at ? new Date(at).toLocaleTimeString() : '–');
export const when = (at) => (at ? new Date(at).toLocaleString() : '–');
export const badge = (s) => h('span', { class: `badge s-${s}` }, s.replace('_', ' '));

/**
 * A job's state badge: `delayed` for a queued job not due yet, with "due in 12 s" after it (its
 * date and time when that is more than a day ahead).
 */
export const jobStateBadge = (j) =>
  isDelayed(j)
    ? h(
        'span',
        { class: 'state-due', title: `queued, due ${when(j.runAt)}` },
        badge('delayed'),
        h('span', { class: 'due muted' }, ` · due ${dueText(j.runAt - Date.now(), j.runAt)}`),
      )
    : badge(j.state);

const DAY_MS = 86_400_000;
const dueText = (ms, at) => (ms > DAY_MS ? when(at) : `in ${duration(ms)}`);
export const emptyRow = (span, text) =>
  h('tr', {}, h('td', { colspan: span, class: 'empty' }, text));

/** A link inside the dashboard (hash route). */
/** Newer/older buttons for a cursor-paged table; `page(-1 | 1)` moves. */
export const pager = (page) =>
  h(
    'nav',
    { class: 'pager', 'aria-label': 'pages' },
    h('button', { type: 'button', id: 'prev', onclick: () => page(-1) }, '← Newer'),
    h('span', { id: 'page-info', class: 'muted' }),
    h('button', { type: 'button', id: 'next', onclick: () => page(1) }, 'Older →'),
  );
export const link = (route, text, attrs = {}) => h('a', { href: `#/${route}`, ...attrs }, text);
export const jobLink = (id) => link(`jobs/${encodeURIComponent(id)}`, id, { class: 'mono' });

/** A button only operators see (body[data-can-operate=false] hides `.operate`). */
export const operateButton = (text, onclick, attrs = {}) =>
  h('button', { type: 'button', class: 'operate', onclick, ...attrs }, text);

/** A value as YAML-like indented text: readable config and payloads without a library. */
export function yaml(value, indent = '') {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return value
      .map((v) => {
        const inner = yaml(v, `${indent}  `);
        return `\n${indent}- ${isBlock(v) ? inner.trimStart() : inner}`;
      })
      .join('');
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return '{}';
    return keys
      .map((k) => {
        const v = value[k];
        const inner = yaml(v, `${indent}  `);
        return `\n${indent}${k}:${isBlock(v) ? inner : ` ${inner}`}`;
      })
      .join('');
  }
  if (typeof value === 'string') {
    return /^[\w./:@-]*$/.test(value) && value ? value : JSON.stringify(value);
  }
  return String(value);
}
const isBlock = (v) =>
  v !== null &&
  typeof v === 'object' &&
  (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
