import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';
import { api, spawnGaffer, type GafferProcess } from '../helpers/process.ts';

/**
 * Live reload: a real `gaffer up` on a temp config file, edited while it runs. The
 * tests run in order on one gaffer, each edit building on the last.
 */
type ReloadView = {
  ok: boolean;
  errors?: { path: string; message: string }[];
  needsRestart?: string[];
  added?: string[];
  changed?: string[];
  removed?: string[];
};
type JobView = { id: string; state: string; result?: unknown };

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'gaffer.yaml');
const marker = path.join(dir, 'go');

/** A command job printing `{"v": <v>}` once the marker file exists (at once when it does). */
const printing = (v: string) => ({
  worker: {
    command: ['sh', '-c', `while [ ! -f '${marker}' ]; do sleep 0.05; done; echo '{"v": "${v}"}'`],
  },
  scaling: { min: 0, max: 2 },
});

/** The config file: JSON is YAML, so the test writes objects. */
function writeConfig(config: Record<string, unknown>): void {
  writeFileSync(file, JSON.stringify({ autoscaler: { intervalMs: 100 }, ...config }, null, 2));
}

/** Polls `check` until it returns a value (not undefined), for up to 60 s. */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within 60 s`);
    await pause(50);
  }
}

let gaffer: GafferProcess;
const reloadStatus = async () =>
  (await api<{ reload: ReloadView | null }>(gaffer.url, '/v1/config')).reload;
const untilReload = (what: string, holds: (r: ReloadView) => boolean) =>
  until(what, async () => {
    const r = await reloadStatus();
    return r && holds(r) ? r : undefined;
  });
const submit = async (type: string) =>
  (await api<{ job: JobView }>(gaffer.url, '/v1/jobs', { type, payload: {} })).job;
const job = async (id: string) => (await api<{ job: JobView }>(gaffer.url, `/v1/jobs/${id}`)).job;
const finished = (id: string) =>
  until(`job ${id} ends`, async () => {
    const j = await job(id);
    return ['succeeded', 'failed', 'dead'].includes(j.state) ? j : undefined;
  });

describe('config reload on a running gaffer', () => {
  before(async () => {
    writeConfig({ jobTypes: { slow: printing('old') } });
    gaffer = await spawnGaffer(['--config', file, '--data-dir', path.join(dir, 'data')]);
  });
  after(async () => {
    gaffer.child.kill('SIGKILL');
    await gaffer.exited;
  });

  test('a running job of a changed type finishes on its old command; new jobs run the new one', async () => {
    const first = await submit('slow');
    await until('the first job runs', async () =>
      (await job(first.id)).state === 'running' ? true : undefined,
    );
    writeConfig({ jobTypes: { slow: printing('new') } });
    await untilReload('slow changed', (r) => r.ok && (r.changed ?? []).includes('slow'));
    writeFileSync(marker, '');
    assert.deepEqual((await finished(first.id)).result, { v: 'old' });
    const second = await submit('slow');
    assert.deepEqual((await finished(second.id)).result, { v: 'new' });
  });

  test('a type added to the file accepts jobs and runs them', async () => {
    writeConfig({ jobTypes: { slow: printing('new'), added: printing('added') } });
    await untilReload('added', (r) => r.ok && (r.added ?? []).includes('added'));
    const j = await submit('added');
    assert.deepEqual((await finished(j.id)).result, { v: 'added' });
  });

  test('an invalid edit is refused with every problem; existing types still run', async () => {
    writeConfig({
      jobTypes: {
        slow: { ...printing('new'), scaling: { min: 0, max: -1 } },
        added: { ...printing('added'), nonsense: true },
      },
    });
    const r = await untilReload('refused', (s) => !s.ok);
    const paths = (r.errors ?? []).map((e) => e.path);
    assert.ok(paths.includes('/jobTypes/slow/scaling/max'), paths.join(', '));
    assert.ok(paths.includes('/jobTypes/added/nonsense'), paths.join(', '));
    const j = await submit('added');
    assert.deepEqual((await finished(j.id)).result, { v: 'added' });
  });

  test('a removed type refuses new submissions', async () => {
    writeConfig({ jobTypes: { slow: printing('new') } });
    await untilReload('removed', (r) => r.ok && (r.removed ?? []).includes('added'));
    const res = await fetch(`${gaffer.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'added', payload: {} }),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /GAFFER_UNKNOWN_TYPE/);
  });

  test('a server setting is reported as needing a restart, not applied', async () => {
    // The CLI's --port pins the port (flags win over the file, on reload as at start): the
    // host stands for every setting read once at start.
    writeConfig({ server: { host: 'localhost' }, jobTypes: { slow: printing('new') } });
    const r = await untilReload('needs restart', (s) =>
      (s.needsRestart ?? []).includes('server.host'),
    );
    assert.equal(r.ok, true);
    const config = await api<{ server: { host: string } }>(gaffer.url, '/v1/config');
    assert.equal(config.server.host, '127.0.0.1');
    // By hand: the same outcome, answered directly.
    const byHand = await api<ReloadView>(gaffer.url, '/v1/config/reload', {});
    assert.deepEqual([byHand.ok, byHand.needsRestart], [true, ['server.host']]);
  });
});
