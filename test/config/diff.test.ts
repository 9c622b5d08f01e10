import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffConfig, type ConfigDiff } from '../../src/config/diff.ts';
import { parseConfig } from '../../src/config/load.ts';

const key = (id: string, role = 'operator') => ({ id, hash: `sha256:${'a'.repeat(64)}`, role });

const base = {
  server: { port: 8080 },
  jobTypes: {
    a: { worker: { command: ['echo', 'a'] } },
    b: { worker: { command: ['echo', 'b'] } },
  },
};

/** `base` with `edit` applied to a clone: each row states one edit and what the diff must say. */
const rows: {
  name: string;
  edit: (c: typeof base & Record<string, unknown>) => void;
  expect: Partial<ConfigDiff>;
  /** Merged over `base` for the running config (default: `base` itself). */
  before?: Record<string, unknown>;
}[] = [
  { name: 'nothing', edit: () => {}, expect: {} },
  {
    name: 'schedules added, changed and removed apply live (no restart)',
    before: {
      schedules: {
        nightly: { cron: '0 2 * * *', submit: { type: 'a' } },
        hourly: { cron: '@hourly', submit: { type: 'b' } },
      },
    },
    edit: (c) => {
      const schedules = c['schedules'] as Record<string, Record<string, unknown>>;
      delete schedules['hourly'];
      schedules['nightly']!['cron'] = '0 3 * * *';
      schedules['nightly']!['paused'] = true;
      schedules['often'] = { cron: '*/5 * * * * *', submit: { type: 'a' }, overlap: 'skip' };
    },
    expect: {},
  },
  {
    name: 'a type added',
    edit: (c) => void Object.assign(c.jobTypes, { c: { worker: { command: ['true'] } } }),
    expect: { added: ['c'] },
  },
  {
    name: 'a type removed',
    edit: (c) => void delete (c.jobTypes as Record<string, unknown>)['b'],
    expect: { removed: ['b'] },
  },
  {
    name: "a type's command changed",
    edit: (c) => void (c.jobTypes.a.worker.command = ['echo', 'new']),
    expect: { changed: ['a'] },
  },
  {
    name: "a type's queue changed",
    edit: (c) => void Object.assign(c.jobTypes.b, { queue: 'other' }),
    expect: { changed: ['b'] },
  },
  {
    name: 'added, changed and removed at once',
    edit: (c) => {
      c.jobTypes.a.worker.command = ['false'];
      delete (c.jobTypes as Record<string, unknown>)['b'];
      Object.assign(c.jobTypes, { z: { worker: { command: ['true'] } } });
    },
    expect: { added: ['z'], changed: ['a'], removed: ['b'] },
  },
  {
    name: 'route rules: live, no restart',
    edit: (c) => void (c.routes = { rules: [{ when: {}, type: 'a' }] }),
    expect: {},
  },
  {
    name: 'server.port needs a restart',
    edit: (c) => void (c.server.port = 9090),
    expect: { needsRestart: ['server.port'] },
  },
  {
    name: 'store, leases and auth need a restart',
    edit: (c) => {
      c.store = { dataDir: '/elsewhere' };
      c.leases = { ttlMs: 9999 };
      c.auth = { sessionTtlMs: 60_000 };
    },
    expect: { needsRestart: ['auth.sessionTtlMs', 'leases.ttlMs', 'store.dataDir'] },
  },
  {
    name: 'API keys changed while auth stays on: live',
    edit: (c) => void (c.auth = { keys: [key('ops-1'), key('ci-1', 'submitter')] }),
    expect: { keysChanged: true },
    before: { auth: { keys: [key('ops-1')] } },
  },
  {
    name: 'turning auth on (the first key) needs a restart',
    edit: (c) => void (c.auth = { keys: [key('ops-1')] }),
    expect: { needsRestart: ['auth.keys'] },
  },
  {
    name: 'turning auth off (no key left) needs a restart',
    edit: (c) => void (c.auth = { keys: [] }),
    expect: { needsRestart: ['auth.keys'] },
    before: { auth: { keys: [key('ops-1')] } },
  },
  {
    name: 'keys live, the session length still needs a restart',
    edit: (c) => void (c.auth = { keys: [key('ops-2')], sessionTtlMs: 5000 }),
    expect: { keysChanged: true, needsRestart: ['auth.sessionTtlMs'] },
    before: { auth: { keys: [key('ops-1')] } },
  },
  {
    name: 'a type added and the port changed',
    edit: (c) => {
      Object.assign(c.jobTypes, { c: { worker: { command: ['true'] } } });
      c.server.port = 1;
    },
    expect: { added: ['c'], needsRestart: ['server.port'] },
  },
];

describe('diffConfig', () => {
  for (const row of rows) {
    test(row.name, () => {
      const current = { ...structuredClone(base), ...row.before };
      const next = structuredClone(current) as typeof base & Record<string, unknown>;
      row.edit(next);
      const diff = diffConfig(parseConfig(current, 'base'), parseConfig(next, 'next'));
      assert.deepEqual(diff, {
        added: [],
        changed: [],
        removed: [],
        keysChanged: false,
        needsRestart: [],
        ...row.expect,
      });
    });
  }
});
