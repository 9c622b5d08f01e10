import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { ANONYMOUS, roleAllows, ROLES, type Access } from '../../src/api/auth/access.ts';
import { authenticate } from '../../src/api/auth/authenticate.ts';
import { createKey, hashKey, keyId, matchKey, sameSecret } from '../../src/api/auth/keys.ts';
import { ConfigError, parseConfig, resolveConfig } from '../../src/config/load.ts';
import { GafferError } from '../../src/errors.ts';

describe('API keys', () => {
  test('a key is gaffer_<id>_<43 base64url chars of 32 random bytes>; the hash is sha256 of all of it', () => {
    const { key, hash } = createKey('ops-1');
    assert.match(key, /^gaffer_ops-1_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(key.slice('gaffer_ops-1_'.length), 'base64url').length, 32);
    assert.equal(hash, `sha256:${createHash('sha256').update(key).digest('hex')}`);
    assert.equal(hashKey(key), hash);
    assert.notEqual(createKey('ops-1').key, key, 'keys are random');
  });

  test('ids the key format cannot carry, and the names of callers without a key, are refused', () => {
    for (const id of ['', 'a_b', 'a b', 'é', 'x'.repeat(65)]) {
      assert.throws(() => createKey(id), /key id/, JSON.stringify(id));
    }
    for (const id of ['anonymous', 'library']) assert.throws(() => createKey(id), /reserved/, id);
  });

  test('keyId: the id of a well-formed key, null for anything else', () => {
    const { key } = createKey('alpha-op');
    const cases: [string, string | null][] = [
      [key, 'alpha-op'],
      // a secret may itself hold _ and -: the id ends at the first _ after the prefix
      [`gaffer_a_${'_'.repeat(43)}`, 'a'],
      [key.slice(0, -1), null],
      [`${key}x`, null],
      [key.replace('gaffer_', 'gaffr_'), null],
      ['Bearer ' + key, null],
      ['', null],
    ];
    for (const [given, want] of cases) assert.equal(keyId(given), want, given);
  });

  test('matchKey: the entry whose id and hash match, nothing else', () => {
    const a = createKey('a');
    const b = createKey('b');
    const entries = [
      { id: 'a', hash: a.hash, role: 'viewer' as const },
      { id: 'b', hash: b.hash, role: 'operator' as const },
    ];
    assert.equal(matchKey(entries, a.key)?.id, 'a');
    assert.equal(matchKey(entries, b.key)?.role, 'operator');
    const cases: [string, string][] = [
      [a.key.slice(0, -4) + 'AAAA', 'a wrong secret'],
      [b.key.replace('gaffer_b_', 'gaffer_a_'), "b's secret under a's id"],
      [createKey('c').key, 'an unknown id'],
      ['gaffer_a_short', 'a malformed key'],
    ];
    for (const [key, what] of cases) assert.equal(matchKey(entries, key), null, what);
  });

  test('sameSecret compares whole strings', () => {
    assert.equal(sameSecret('token-1234567890', 'token-1234567890'), true);
    assert.equal(sameSecret('token-1234567890', 'token-123456789'), false);
    assert.equal(sameSecret('', 'x'), false);
  });
});

describe('roles and authenticate', () => {
  test('roles hold their rights: viewer read; submitter + submit; operator + operate', () => {
    const table: Record<string, Access[]> = {
      viewer: ['public', 'read'],
      submitter: ['public', 'read', 'submit'],
      operator: ['public', 'read', 'submit', 'operate'],
    };
    for (const role of ROLES) {
      for (const access of ['public', 'read', 'submit', 'operate', 'worker'] as Access[]) {
        assert.equal(roleAllows(role, access), table[role]!.includes(access), `${role} ${access}`);
      }
    }
  });

  test('authenticate: anonymous operator with auth off; the principal or a 401 error with it on', () => {
    const { key, hash } = createKey('scoped');
    const off = { config: { auth: parseConfig({}, 'test').auth } };
    assert.equal(authenticate(off, undefined), ANONYMOUS);
    assert.equal(authenticate(off, 'Bearer nonsense'), ANONYMOUS);
    const on = {
      config: {
        auth: {
          ...off.config.auth,
          keys: [{ id: 'scoped', hash, role: 'submitter' as const, types: ['a'] }],
        },
      },
    };
    const p = authenticate(on, `Bearer ${key}`);
    assert.ok(!(p instanceof GafferError));
    assert.deepEqual(
      { ...p, types: [...p.types!] },
      { id: 'scoped', role: 'submitter', types: ['a'] },
    );
    for (const header of [undefined, '', `Basic ${key}`, `Bearer ${key}x`, key]) {
      const err = authenticate(on, header);
      assert.ok(err instanceof GafferError, String(header));
      assert.equal(err.code, 'GAFFER_UNAUTHORIZED');
      assert.equal(err.status, 401);
    }
  });
});

describe('auth config', () => {
  const types = { jobTypes: { a: { worker: { command: ['true'] } } } };
  const entry = (id: string, extra: object = {}) => ({
    id,
    hash: createKey(id).hash,
    role: 'viewer',
    ...extra,
  });

  test('auth is off by default; keys from GAFFER_API_KEYS are added to the file’s', async () => {
    assert.deepEqual(parseConfig({}, 'test').auth.keys, []);
    assert.equal(parseConfig({}, 'test').auth.sessionTtlMs, 12 * 3600 * 1000);
    const config = await resolveConfig({
      env: { GAFFER_API_KEYS: JSON.stringify([entry('from-env')]) },
    });
    assert.deepEqual(
      config.auth.keys.map((k) => k.id),
      ['from-env'],
    );
  });

  test('problems: bad JSON in GAFFER_API_KEYS, duplicate ids, unknown types, a malformed hash', async () => {
    await assert.rejects(resolveConfig({ env: { GAFFER_API_KEYS: '[{' } }), ConfigError);
    await assert.rejects(resolveConfig({ env: { GAFFER_API_KEYS: '{}' } }), ConfigError);
    const problems = (raw: object) => {
      try {
        parseConfig(raw, 'test');
        return [];
      } catch (err) {
        return (err as ConfigError).problems.map((p) => p.path);
      }
    };
    assert.deepEqual(problems({ ...types, auth: { keys: [entry('x'), entry('x')] } }), [
      '/auth/keys/1/id',
    ]);
    assert.deepEqual(problems({ ...types, auth: { keys: [entry('x', { types: ['a', 'b'] })] } }), [
      '/auth/keys/0/types/1',
    ]);
    assert.deepEqual(problems({ auth: { keys: [{ ...entry('x'), hash: 'plain-text' }] } }), [
      '/auth/keys/0/hash',
    ]);
    assert.deepEqual(problems({ auth: { keys: [entry('x', { role: 'admin' })] } }), [
      '/auth/keys/0/role',
    ]);
    // The names of callers without a key (audit actor, idempotency-key scope) are no key's id.
    const named = (id: string) => ({ ...entry('x'), id });
    assert.deepEqual(problems({ auth: { keys: [named('anonymous'), named('library')] } }), [
      '/auth/keys/0/id',
      '/auth/keys/1/id',
    ]);
  });
});
