import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createKey } from '../../src/api/auth/keys.ts';
import { parseConfig } from '../../src/config/load.ts';
import { REDACTED, redactConfig, redactUrl } from '../../src/config/redact.ts';

describe('redactConfig', () => {
  const { hash } = createKey('ops');
  const raw = {
    server: { workerToken: 'worker-token-0123456789' },
    store: { kind: 'postgres', url: 'postgres://gaffer:pg-secret@db:5432/gaffer?sslmode=require' },
    broker: { kind: 'redis', url: 'redis://:redis-secret@mq:6379/0' },
    executor: { gafferUrl: 'http://gaffer:8080' },
    storage: { s3: { endpoint: 'http://minio:minio-secret@minio:9000', region: 'eu' } },
    auth: { keys: [{ id: 'ops', hash, role: 'operator', types: ['a'] }] },
    jobTypes: {
      a: {
        worker: { command: ['run'], env: { MODE: 'fast' } },
        kubernetes: { secretEnv: { DB_PASSWORD: { secret: 'db-creds', key: 'password' } } },
      },
    },
  };
  const config = parseConfig(raw, 'test');
  const out = redactConfig(config);

  test('every secret is replaced; what says where and how stays', () => {
    const cases: [string, unknown, unknown][] = [
      ['server.workerToken', out.server.workerToken, REDACTED],
      ['auth key hash', out.auth.keys[0]!.hash, REDACTED],
      [
        'auth key id, role, types',
        [out.auth.keys[0]!.id, out.auth.keys[0]!.role, out.auth.keys[0]!.types],
        ['ops', 'operator', ['a']],
      ],
      ['store.url', out.store.url, `postgres://gaffer:${REDACTED}@db:5432/gaffer?sslmode=require`],
      ['broker.url', out.broker.url, `redis://:${REDACTED}@mq:6379/0`],
      ['executor.gafferUrl (no credential)', out.executor.gafferUrl, 'http://gaffer:8080'],
      ['storage.s3.endpoint', out.storage.s3?.endpoint, `http://minio:${REDACTED}@minio:9000`],
      [
        'kubernetes worker token Secret',
        out.executor.kubernetes.workerTokenSecret,
        { name: REDACTED, key: REDACTED },
      ],
      [
        'a type’s secretEnv',
        out.jobTypes['a']!.kubernetes.secretEnv,
        { DB_PASSWORD: { secret: REDACTED, key: REDACTED } },
      ],
      ['worker command (remote workers read it)', out.jobTypes['a']!.worker.command, ['run']],
      ['worker env (remote workers read it)', out.jobTypes['a']!.worker.env, { MODE: 'fast' }],
      ['leases', out.leases, config.leases],
      ['routes', out.routes, config.routes],
    ];
    for (const [what, got, want] of cases) assert.deepEqual(got, want, what);
  });

  test('no secret anywhere in the JSON; the input is not changed', () => {
    const text = JSON.stringify(out);
    for (const secret of [
      'worker-token-0123456789',
      'pg-secret',
      'redis-secret',
      'minio-secret',
      hash,
      'db-creds',
    ]) {
      assert.ok(!text.includes(secret), secret);
    }
    assert.equal(config.server.workerToken, 'worker-token-0123456789');
    assert.equal(config.auth.keys[0]!.hash, hash);
  });

  test('the default config has nothing to hide and comes back unchanged but for Secret names', () => {
    const plain = parseConfig({}, 'test');
    const { executor, ...rest } = redactConfig(plain);
    const { executor: plainExecutor, ...plainRest } = plain;
    assert.deepEqual(rest, plainRest);
    assert.deepEqual(
      { ...executor, kubernetes: { ...executor.kubernetes, workerTokenSecret: null } },
      {
        ...plainExecutor,
        kubernetes: { ...plainExecutor.kubernetes, workerTokenSecret: null },
      },
    );
  });
});

describe('redactUrl', () => {
  const cases: [string, string][] = [
    ['postgres://u:p@h/db', `postgres://u:${REDACTED}@h/db`],
    ['postgres://u@h/db', 'postgres://u@h/db'],
    ['amqp://guest:guest@mq:5672/vhost', `amqp://guest:${REDACTED}@mq:5672/vhost`],
    ['redis://:pw@h:6379', `redis://:${REDACTED}@h:6379`],
    ['rediss://default:p%40ss@h', `rediss://default:${REDACTED}@h`],
    [
      'postgres://h/db?user=u&password=p&sslmode=verify-full',
      `postgres://h/db?user=u&password=${REDACTED}&sslmode=verify-full`,
    ],
    ['http://h/?token=abc&x=1', `http://h/?token=${REDACTED}&x=1`],
    ['http://h:9000', 'http://h:9000'],
    ['/var/lib/gaffer/broker.db', '/var/lib/gaffer/broker.db'],
    ['user:secret@host', `${REDACTED}@host`],
  ];
  for (const [url, want] of cases) {
    test(url, () => assert.equal(redactUrl(url), want));
  }
});
