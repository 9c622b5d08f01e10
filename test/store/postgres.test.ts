import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Job, NewJob } from '../../src/domain/job.ts';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/index.ts';
import { MIGRATIONS } from '../../src/store/postgres/migrations.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import {
  createDatabase,
  createSchema,
  PG_BIN,
  startPostgres,
  type PostgresServer,
} from '../helpers/servers/postgres.ts';
import { describeJobStoreContract } from './job-store.contract.ts';
import { describeLeaderLeaseContract } from './leader-lease.contract.ts';
import { describeLifecycleContract } from './lifecycle.contract.ts';
import { describeQueueStatsContract } from './queue-stats.contract.ts';
import { describeStateMachineContract } from './state-machine.contract.ts';
import { describeFlowControlContract } from './flow-control.contract.ts';

const T0 = 1_700_000_000_000;
function job(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    type: 'render',
    queue: 'render',
    payload: { id },
    priority: 0,
    attributes: {},
    maxAttempts: 3,
    timeoutMs: 1000,
    createdAt: T0,
    runAt: T0,
    batchId: null,
    idempotencyKey: null,
    routeReason: null,
    data: null,
    ...overrides,
  };
}

function ids(jobs: readonly { id: string }[]): string[] {
  return jobs.map((j) => j.id);
}

if (serviceAvailable(`${PG_BIN}/initdb`)) {
  // One private cluster for the whole file. Each contract test gets a schema of its own in one
  // shared database (fast); the tests below get a database each, as separate deployments would.
  let server: PostgresServer | undefined;
  let contractDb: string | undefined;
  before(async () => {
    server = await startPostgres();
    contractDb = await createDatabase(server.url, 'contract');
  });
  after(async () => {
    await server?.stop();
  });
  const freshUrl = () => {
    assert.ok(server, 'the cluster is not running');
    return createDatabase(server.url);
  };
  const freshStore = async (poolSize = 4) =>
    createPostgresStore({ url: await freshUrl(), poolSize });

  describeJobStoreContract('postgres', async () => {
    assert.ok(contractDb, 'the cluster is not running');
    return createPostgresStore({ url: await createSchema(contractDb), poolSize: 4 });
  });

  describeLifecycleContract('postgres', async () => {
    assert.ok(contractDb, 'the cluster is not running');
    return createPostgresStore({ url: await createSchema(contractDb), poolSize: 4 });
  });

  describeStateMachineContract('postgres', async () => {
    assert.ok(contractDb, 'the cluster is not running');
    return createPostgresStore({ url: await createSchema(contractDb), poolSize: 4 });
  });

  describeQueueStatsContract('postgres', async () => {
    assert.ok(contractDb, 'the cluster is not running');
    return createPostgresStore({ url: await createSchema(contractDb), poolSize: 4 });
  });

  // Two stores on one database, as two gaffer replicas sharing it.
  describeLeaderLeaseContract('postgres', async () => {
    const url = await freshUrl();
    const a = await createPostgresStore({ url, poolSize: 2 });
    const b = await createPostgresStore({ url, poolSize: 2 });
    return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
  });

  // Two stores on one database, as two replicas; reopen closes the first and connects again.
  describeFlowControlContract('postgres', async () => {
    const url = await freshUrl();
    const open = () => createPostgresStore({ url, poolSize: 4 });
    const stores = { a: await open(), b: await open() };
    return {
      ...stores,
      reopen: async () => {
        await stores.a.close();
        stores.a = await open();
        return stores.a;
      },
      close: async () => void (await Promise.all([stores.a.close(), stores.b.close()])),
    };
  });

  describe('postgres store', () => {
    /** Runs `fn` with a plain client on `url` (to look at the database behind the store). */
    async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    }

    test('migrations run once, even when several processes start at once', async () => {
      const url = await freshUrl();
      // Concurrent starts on an empty database: the advisory lock lets one migrate, the others
      // then find the schema current.
      const stores = await Promise.all(
        Array.from({ length: 5 }, () => createPostgresStore({ url, poolSize: 2 })),
      );
      const [stored] = await (stores[0] as PostgresStore).insert([
        job('a', { idempotencyKey: 'k' }),
      ]);
      await Promise.all(stores.map((s) => s.close()));

      // And once more on the migrated database: the data stays, nothing re-runs.
      const again = await createPostgresStore({ url, poolSize: 2 });
      assert.deepEqual(await again.get('a'), stored);
      assert.deepEqual(ids(await again.insert([job('b', { idempotencyKey: 'k' })])), ['a']);
      await again.close();

      const versions = await withClient(url, async (c) =>
        (await c.query('SELECT version FROM schema_version ORDER BY version')).rows.map(
          (r: { version: number }) => r.version,
        ),
      );
      assert.deepEqual(
        versions,
        MIGRATIONS.map((_, i) => i + 1),
      );
    });

    test('refuses a database written by a newer schema', async () => {
      const url = await freshUrl();
      await (await createPostgresStore({ url })).close();
      await withClient(url, (c) =>
        c.query('INSERT INTO schema_version (version) VALUES ($1)', [MIGRATIONS.length + 1]),
      );
      await assert.rejects(createPostgresStore({ url }), /newer/);
    });

    test('two processes claiming one type concurrently never get the same job', async () => {
      const url = await freshUrl();
      // Two stores = two pools = two gaffer processes, each claiming from several loops at once.
      const a = await createPostgresStore({ url, poolSize: 4 });
      const b = await createPostgresStore({ url, poolSize: 4 });
      const total = 500;
      await a.insert(
        Array.from({ length: total }, (_, i) => job(`j${String(i).padStart(3, '0')}`)),
      );

      const loop = async (store: PostgresStore, owner: string): Promise<Job[]> => {
        const mine: Job[] = [];
        for (;;) {
          const claimed = await store.claim({
            type: 'render',
            owner,
            limit: 7,
            now: T0,
            leaseExpiresAt: T0 + 60_000,
            to: 'running',
          });
          if (claimed.length === 0) return mine;
          mine.push(...claimed);
        }
      };
      const results = await Promise.all([
        ...[1, 2, 3, 4].map((n) => loop(a, `a/w${n}`)),
        ...[1, 2, 3, 4].map((n) => loop(b, `b/w${n}`)),
      ]);
      const all = results.flat();
      assert.equal(all.length, total, 'every job claimed exactly once');
      assert.equal(new Set(ids(all)).size, total, 'no job handed out twice');
      assert.equal(new Set(all.map((j) => j.leaseToken)).size, total, 'tokens never repeat');
      for (const [i, owned] of results.entries()) {
        const owner = i < 4 ? `a/w${i + 1}` : `b/w${i - 3}`;
        assert.ok(owned.every((j) => j.leaseOwner === owner && j.attempt === 1));
      }
      const stats = await b.queueStats(T0);
      assert.deepEqual(stats[0]?.byState, { running: total });

      // Fencing across processes: b retries a job a holds; a's token is then refused.
      const [lost] = results[0] as Job[];
      assert.ok(lost && lost.leaseToken !== null);
      const error = { class: 'infrastructure' as const, message: 'lease expired' };
      const retry = { id: lost.id, token: lost.leaseToken, now: T0, runAt: T0 };
      assert.equal((await b.finish([{ ...retry, to: 'queued', error }])).length, 1);
      const [reclaimed] = await b.claim({
        type: 'render',
        owner: 'b/w9',
        limit: 1,
        now: T0,
        leaseExpiresAt: T0 + 10,
        to: 'running',
      });
      assert.ok(reclaimed?.leaseToken && reclaimed.leaseToken > lost.leaseToken);
      assert.equal(await a.heartbeat(lost.id, lost.leaseToken, T0 + 99), false);
      await Promise.all([a.close(), b.close()]);
    });

    test(
      'a claim skips a job another transaction has locked instead of waiting',
      { timeout: 60_000 },
      async () => {
        const url = await freshUrl();
        const store = await createPostgresStore({ url, poolSize: 2 });
        await store.insert([job('held', { priority: 9 }), job('free-1'), job('free-2')]);
        await withClient(url, async (other) => {
          await other.query('BEGIN');
          await other.query(`SELECT id FROM jobs WHERE id = 'held' FOR UPDATE`);
          const claimed = await store.claim({
            type: 'render',
            owner: 'w',
            limit: 10,
            now: T0,
            leaseExpiresAt: T0 + 1,
            to: 'running',
          });
          assert.deepEqual(ids(claimed), ['free-1', 'free-2']);
          await other.query('ROLLBACK');
        });
        assert.deepEqual(
          ids(
            await store.claim({
              type: 'render',
              owner: 'w',
              limit: 10,
              now: T0,
              leaseExpiresAt: T0 + 1,
              to: 'running',
            }),
          ),
          ['held'],
        );
        await store.close();
      },
    );

    test('finish applies several updates of one job in order, in one call', async () => {
      const store = await freshStore();
      await store.insert([job('a'), job('b')]);
      const claimed = await store.claim({
        type: 'render',
        owner: 'w',
        limit: 2,
        now: T0,
        leaseExpiresAt: T0 + 10,
        to: 'starting',
      });
      const token = (id: string) => claimed.find((j) => j.id === id)?.leaseToken as number;
      const changed = await store.finish([
        { id: 'b', token: token('b'), now: T0 + 1, to: 'running', leaseExpiresAt: T0 + 20 },
        { id: 'a', token: token('a'), now: T0 + 1, to: 'running', leaseExpiresAt: T0 + 20 },
        { id: 'b', token: token('b'), now: T0 + 2, to: 'succeeded', result: { ok: true } },
        {
          id: 'b',
          token: token('b'),
          now: T0 + 3,
          to: 'failed',
          error: { class: 'oom', message: 'x' },
        },
      ]);
      assert.deepEqual(
        changed.map((j) => [j.id, j.state]),
        [
          ['b', 'running'],
          ['a', 'running'],
          ['b', 'succeeded'],
        ],
      );
      assert.deepEqual((await store.get('b'))?.result, { ok: true });
      await store.close();
    });

    test('concurrent inserts of one idempotency key store one job', async () => {
      const url = await freshUrl();
      const a = await createPostgresStore({ url, poolSize: 2 });
      const b = await createPostgresStore({ url, poolSize: 2 });
      const [fromA, fromB] = await Promise.all([
        a.insert([job('from-a', { idempotencyKey: 'same' })]),
        b.insert([job('from-b', { idempotencyKey: 'same' })]),
      ]);
      assert.equal(fromA[0]?.id, fromB[0]?.id);
      assert.equal((await a.list({ limit: 10 })).jobs.length, 1);
      await Promise.all([a.close(), b.close()]);
    });

    test('inserts 100,000 jobs in one call, in input order', async () => {
      const store = await freshStore();
      const jobs = Array.from({ length: 100_000 }, (_, i) =>
        job(`bulk-${i}`, { idempotencyKey: i % 10 === 0 ? `key-${i % 1000}` : null }),
      );
      const started = performance.now();
      const out = await store.insert(jobs);
      const insertMs = performance.now() - started;
      assert.equal(out.length, jobs.length);
      // Keys repeat every 1000 rows, so later holders of a key get the first job with it.
      assert.equal(out[10_000]?.id, 'bulk-0');
      assert.equal(out[10_001]?.id, 'bulk-10001');
      assert.deepEqual(out[10_001], await store.get('bulk-10001'));
      const stats = await store.queueStats(T0);
      assert.equal(stats[0]?.ready, 100_000 - 9_900);

      // A second call with the same keys inserts nothing new and returns the stored jobs.
      const again = await store.insert([job('late', { idempotencyKey: 'key-10' })]);
      assert.equal(again[0]?.id, 'bulk-10');

      // Reported, not asserted: timings vary by machine.
      const claimStart = performance.now();
      let claimed = 0;
      for (let i = 0; i < 40; i += 1) {
        const got = await store.claim({
          type: 'render',
          owner: 'w',
          limit: 50,
          now: T0,
          leaseExpiresAt: T0 + 1,
          to: 'running',
        });
        claimed += got.length;
      }
      const claimMs = performance.now() - claimStart;
      console.log(
        `postgres: inserted 100,000 jobs in ${insertMs.toFixed(0)} ms; ` +
          `claimed ${claimed} in claims of 50 at ${((claimed / claimMs) * 1000).toFixed(0)} jobs/s`,
      );
      await store.close();
    });

    test('a log line for an unknown job is refused (foreign key)', async () => {
      const store = await freshStore();
      await assert.rejects(store.appendLog('missing', 'stdout', 'x', T0));
      await store.close();
    });

    test('a log line holding NUL round-trips', async () => {
      const store = await freshStore();
      await store.insert([job('a')]);
      await store.appendLog('a', 'stdout', 'bin\u0000ary ✓', T0);
      assert.equal((await store.logs('a'))[0]?.data, 'bin\u0000ary ✓');
      await store.close();
    });

    test('bigint columns read back as numbers', async () => {
      const store = await freshStore();
      const big = 2 ** 52 + 1;
      const [stored] = await store.insert([job('t', { createdAt: big, runAt: big })]);
      assert.deepEqual(await store.get('t'), stored);
      assert.equal(typeof (await store.get('t'))?.createdAt, 'number');
      await store.close();
    });
  });
}
