/* global FormData */
// Batches: upload a CSV (with upload progress), and the list of batches, newest first, each with
// its progress (GET /v1/batches, keyset-paged).
import { api } from '../api.js';
import { endedOf, progress, stateCounts } from '../batch-common.js';
import { $, ago, emptyRow, h, link, pager } from '../dom.js';

const state = { batches: [], next: null, cursors: [null], types: [] };

const view = {
  title: () => 'Batches',
  events: ['batch', 'jobs'],
  mount(root) {
    state.cursors = [null];
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'h-upload', class: 'operate-submit' },
        h('h2', { id: 'h-upload' }, 'Upload a CSV'),
        h(
          'form',
          { id: 'upload', class: 'upload', onsubmit: upload },
          h('label', { for: 'upload-file' }, 'CSV file'),
          h('input', {
            id: 'upload-file',
            type: 'file',
            name: 'file',
            accept: '.csv,text/csv',
            required: true,
          }),
          h('label', { for: 'upload-type' }, 'job type'),
          h(
            'select',
            { id: 'upload-type', name: 'type' },
            h('option', { value: '' }, 'route each row'),
          ),
          h('button', { type: 'submit' }, 'Upload'),
        ),
        h(
          'div',
          { id: 'upload-status', class: 'upload-status', hidden: true },
          h('div', { id: 'upload-label', class: 'progress-label', role: 'status' }),
          h('progress', {
            id: 'upload-progress',
            max: '100',
            value: '0',
            'aria-label': 'upload progress',
          }),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'h-batches' },
        h('h2', { id: 'h-batches' }, 'Batches'),
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { id: 'batches-table' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...[
                  'batch',
                  'source',
                  'type',
                  'created',
                  'accepted',
                  'rejected',
                  'progress',
                  'jobs by state',
                ].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h('tbody'),
          ),
        ),
        pager(page),
      ),
    );
  },
  async load() {
    const cursor = state.cursors.at(-1);
    const [page, queues] = await Promise.all([
      api(`/v1/batches?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
      state.types.length ? null : api('/v1/queues'),
    ]);
    state.batches = page.batches;
    state.next = page.nextCursor;
    if (queues) state.types = queues.queues.map((q) => q.type);
  },
  render() {
    const select = $('#upload-type');
    if (select.options.length === 1) {
      select.append(...state.types.map((t) => h('option', { value: t }, t)));
    }
    const rows = state.batches.map((b) =>
      h(
        'tr',
        { 'data-id': b.id },
        h('td', {}, link(`batches/${encodeURIComponent(b.id)}`, b.id, { class: 'mono' })),
        h('td', {}, b.source),
        h('td', {}, b.type ?? 'routed'),
        h('td', {}, ago(b.createdAt)),
        h('td', { class: 'num' }, b.accepted),
        h('td', { class: 'num' }, b.rejected),
        h('td', {}, progress(b), b.done ? '' : h('span', { class: 'muted' }, ' ingesting…')),
        h('td', {}, stateCounts(b), h('span', { class: 'sr-only' }, ` ${endedOf(b)} ended`)),
      ),
    );
    $('#batches-table tbody').replaceChildren(
      ...(rows.length ? rows : [emptyRow(8, 'No batches yet.')]),
    );
    $('#prev').disabled = state.cursors.length <= 1;
    $('#next').disabled = !state.next;
    $('#page-info').textContent = `page ${state.cursors.length}`;
  },
};
export default view;

async function page(step) {
  if (step > 0 && state.next) state.cursors.push(state.next);
  if (step < 0 && state.cursors.length > 1) state.cursors.pop();
  await view.load();
  view.render();
}

/** Uploads with XMLHttpRequest, which (unlike fetch) reports upload progress; opens the batch. */
function upload(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const type = form.get('type');
  const body = new FormData();
  body.append('file', form.get('file'));
  const xhr = new window.XMLHttpRequest();
  xhr.open('POST', `/v1/batches${type ? `?type=${encodeURIComponent(type)}` : ''}`);
  $('#upload-status').hidden = false;
  const label = (text) => ($('#upload-label').textContent = text);
  xhr.upload.onprogress = (e) => {
    const pct = e.lengthComputable ? Math.floor((e.loaded / e.total) * 100) : 0;
    label(pct < 100 ? `uploading ${pct}%` : 'ingesting rows…');
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
      label(`upload failed: ${res.error?.code ?? xhr.status}: ${res.error?.message ?? ''}`);
      return;
    }
    window.location.hash = `#/batches/${encodeURIComponent(res.batch.id)}`;
  };
  xhr.onerror = () => label('upload failed: network error');
  xhr.send(body);
}
