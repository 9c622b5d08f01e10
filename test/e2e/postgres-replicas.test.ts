import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { createDatabase, startPostgres, type PostgresServer } from '../helpers/servers/postgres.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { api, spawnGaffer, untilEvent } from '../helpers/process.ts';

// Two gaffer replicas share one PostgreSQL store. Exactly one runs the autoscaler (the holder of
// the lease in the store); when that process is killed, the other takes the lease and the run
// completes: every job ends succeeded, exactly once.
const PG_INITDB = '/usr/lib/postgresql/15/bin/initdb';
const JOBS = 200;
const enabled = serviceAvailable(PG_INITDB);
let pgServer: PostgresServer;
let url: string;
const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-replicas-'));

before(async () => {
  if (!enabled) return;
  pgServer = await startPostgres();
  url = await createDatabase(pgServer.url);
});
after(async () => {
  await pgServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const shared = () => ({
  store: { kind: 'postgres', url },
  autoscaler: { intervalMs: 100, leaderTtlMs: 1500 },
  leases: { ttlMs: 3000, sweepMs: 200 },
  jobTypes: {
    work: {
      worker: { handler: 'test/e2e/fixtures/handlers.ts#row', env: { ROW_DELAY_MS: '20' } },
      concurrency: 2,
      retry: { maxAttempts: 3, backoffMs: 0 },
      scaling: { min: 0, max: 2, burst: 2, threshold: 10 },
    },
  },
});

test(
  'killing the replica that holds the autoscaler lease: the other takes over, nothing lost',
  { skip: !enabled },
  async () => {
    const configFile = path.join(dir, 'a.json');
    writeFileSync(
      configFile,
      JSON.stringify({ ...shared(), store: { ...shared().store, dataDir: path.join(dir, 'a') } }),
    );
    const a = await spawnGaffer(['--config', configFile]);
    let b: TestGaffer | undefined;
    try {
      b = await startGaffer(shared(), path.join(dir, 'b'));
      assert.equal(b.orch.leading, false, 'the second replica does not lead while the first lives');

      for (let i = 0; i < JOBS; i++) {
        await api(a.url, '/v1/jobs', { type: 'work', payload: { id: String(i) } });
      }
      const succeeded = async () =>
        (await b!.orch.store.queueStats(Date.now())).find((s) => s.type === 'work')?.byState
          .succeeded ?? 0;
      await untilEvent(a.url, async () => (await succeeded()) >= 20);

      const tookOver = b.orch.events.once(
        'leader:changed',
        ({ holder }) => holder === b!.orch.instance,
      );
      a.child.kill('SIGKILL');
      await a.exited;
      await tookOver;
      await until(b, async () => (await succeeded()) === JOBS, [
        'job:succeeded',
        'job:retrying',
        'leader:changed' as never,
      ]);

      const stats = (await b.orch.store.queueStats(Date.now())).find((s) => s.type === 'work')!;
      assert.deepEqual(
        stats.byState,
        { succeeded: JOBS },
        'every job ended succeeded, none lost or doubled',
      );
    } finally {
      if (a.child.exitCode === null) a.child.kill('SIGKILL');
      await b?.stop();
    }
  },
);
