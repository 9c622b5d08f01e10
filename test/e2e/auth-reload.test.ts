import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createKey } from '../../src/api/auth/keys.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * API keys change with a config reload, no restart (config/diff.ts): a removed key is refused at
 * once, a new one works, a changed role applies — to bearer keys and to the dashboard sessions
 * opened with them; a key given a new secret ends its sessions.
 */

/** A new key and its config entry maker (createKey gives the key and its hash). */
const key = (id: string) => ({ id, ...createKey(id) });
const ops = key('ops-1');
const viewer = key('viewer-1');
const ci = key('ci-1');
const entry = (k: { id: string; hash: string }, role: string) => ({ id: k.id, hash: k.hash, role });
const jobTypes = { alpha: { worker: { command: ['true'] }, scaling: { max: 0 } } };

let g: TestGaffer;
before(async () => {
  g = await startGaffer({
    jobTypes,
    auth: { keys: [entry(ops, 'operator'), entry(viewer, 'viewer')] },
  });
});
after(() => g.close());

const call = (url: string, headers: Record<string, string>): Promise<LightMyRequestResponse> =>
  g.app.inject({ method: 'GET', url, headers });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Reloads with these keys, the rest as at start. */
async function reloadKeys(keys: ReturnType<typeof entry>[]) {
  const next = parseConfig(
    { jobTypes, auth: { keys }, store: { dataDir: g.dataDir, synchronous: 'NORMAL' } },
    'test',
  );
  return g.orch.reload(next);
}

test('keys and the sessions opened with them follow the keys in force', async () => {
  const login = await g.app.inject({
    method: 'POST',
    url: '/v1/session',
    payload: { key: viewer.key },
  });
  assert.equal(login.statusCode, 200);
  const cookie = { cookie: String(login.headers['set-cookie']).split(';')[0]! };
  assert.equal((await call('/v1/jobs', cookie)).statusCode, 200);
  assert.equal((await call('/v1/audit', cookie)).statusCode, 403, 'a viewer may not read audit');
  assert.equal((await call('/v1/audit', bearer(ops.key))).statusCode, 200);
  assert.equal((await call('/v1/jobs', bearer(ci.key))).statusCode, 401);

  // ops-1 revoked, ci-1 added, viewer-1 promoted: all at once, no restart.
  const result = await reloadKeys([entry(viewer, 'operator'), entry(ci, 'submitter')]);
  assert.deepEqual([result.ok, result.keysChanged, result.needsRestart], [true, true, []]);
  assert.equal((await call('/v1/audit', bearer(ops.key))).statusCode, 401);
  assert.equal((await call('/v1/jobs', bearer(ci.key))).statusCode, 200);
  assert.equal((await call('/v1/audit', cookie)).statusCode, 200, 'the session has the new role');

  // viewer-1 gets a new secret (a rotation): the session opened with the old one ends.
  const rotated = key('viewer-1');
  await reloadKeys([entry(rotated, 'operator'), entry(ci, 'submitter')]);
  const refused = await call('/v1/jobs', cookie);
  assert.equal(refused.statusCode, 401);
  assert.match(refused.json<{ error: { message: string } }>().error.message, /revoked/);
  assert.equal((await call('/v1/jobs', bearer(viewer.key))).statusCode, 401);
  assert.equal((await call('/v1/audit', bearer(rotated.key))).statusCode, 200);
});

test('turning auth off by a reload needs a restart: the keys in force stay', async () => {
  const result = await reloadKeys([]);
  assert.deepEqual(
    [result.ok, result.keysChanged, result.needsRestart],
    [true, false, ['auth.keys']],
  );
  assert.equal((await call('/v1/jobs', {})).statusCode, 401);
  assert.equal((await call('/v1/jobs', bearer(ci.key))).statusCode, 200);
});
