import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { createDatabase, startPostgres, type PostgresServer } from '../helpers/servers/postgres.ts';
import { api, spawnGaffer, untilEvent, type GafferProcess } from '../helpers/process.ts';

/**
 * A cron schedule every second, two `gaffer up` replicas on one PostgreSQL store, the leader
 * killed (SIGKILL) mid-way: every tick has at most one job, the survivor takes over, and the only
 * ticks without a job are those that fell due while no replica led.
 */
const PG_INITDB = '/usr/lib/postgresql/15/bin/initdb';
const enabled = serviceAvailable(PG_INITDB);
const NAME = 'beat';
const KEY = new RegExp(`^schedule:${NAME}:(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z)$`);
let pgServer: PostgresServer;
let dbUrl: string;
const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-sched-replicas-'));

before(async () => {
  if (!enabled) return;
  pgServer = await startPostgres();
  dbUrl = await createDatabase(pgServer.url);
});
after(async () => {
  await pgServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A replica's `gaffer up` arguments: the shared store, its own data dir. */
function replica(name: string): string[] {
  const file = path.join(dir, `${name}.json`);
  const config = {
    store: { kind: 'postgres', url: dbUrl, dataDir: path.join(dir, name) },
    autoscaler: { intervalMs: 100, leaderTtlMs: 1500 },
    jobTypes: { beat: { worker: { command: ['true'] }, scaling: { min: 0, max: 0 } } },
    // missed: skip (the default), stated: the survivor fires the latest due tick, within grace.
    schedules: { [NAME]: { cron: '* * * * * *', submit: { type: 'beat' }, missed: 'skip' } },
  };
  writeFileSync(file, JSON.stringify(config));
  return ['--config', file];
}

interface TickJob {
  id: string;
  idempotencyKey?: string;
  createdAt: number;
}

async function tickJobs(url: string): Promise<TickJob[]> {
  const { jobs } = await api<{ jobs: TickJob[] }>(url, '/v1/jobs?type=beat&limit=1000');
  return jobs;
}

/** The tick a job was fired for, read from its idempotency key. */
function tickOf(job: TickJob): number {
  const m = KEY.exec(job.idempotencyKey ?? '');
  assert.ok(m, `a schedule's key: ${job.idempotencyKey}`);
  return Date.parse(m[1]!);
}

test(
  'a schedule every second fires once per tick across two replicas, the leader killed mid-way',
  { skip: !enabled },
  async (t) => {
    const a = await spawnGaffer(replica('a'));
    let b: GafferProcess | undefined;
    try {
      // Alone, `a` leads: its runner fires the first ticks.
      await untilEvent(a.url, async () => (await tickJobs(a.url)).length >= 1);
      b = await spawnGaffer(replica('b'));
      // Two more ticks while both run (an event stream carries its own process's events: the
      // leader's).
      const seen = (await tickJobs(b.url)).length;
      await untilEvent(a.url, async () => (await tickJobs(b!.url)).length >= seen + 2);

      const killedAt = Date.now();
      a.child.kill('SIGKILL');
      await a.exited;
      const firedByA = new Set((await tickJobs(b.url)).map((j) => j.id));
      // The survivor takes the lease and fires on: three ticks made after the kill.
      await untilEvent(
        b.url,
        async () => (await tickJobs(b!.url)).filter((j) => !firedByA.has(j.id)).length >= 3,
      );
      const jobs = await tickJobs(b.url);
      b.child.kill('SIGTERM');
      await b.exited;

      const ticks = jobs.map(tickOf).sort((x, y) => x - y);
      assert.equal(new Set(ticks).size, ticks.length, 'no tick fired twice');
      for (const tick of ticks) assert.equal(tick % 1000, 0, 'ticks are whole seconds');
      const beforeKill = jobs.filter((j) => firedByA.has(j.id)).map(tickOf);
      const afterKill = jobs.filter((j) => !firedByA.has(j.id));
      assert.ok(
        afterKill.every((j) => j.createdAt >= killedAt),
        'the survivor fired the ticks after the kill',
      );
      const lastBefore = Math.max(...beforeKill);
      const firstAfter = Math.min(...afterKill.map(tickOf));
      assert.ok(firstAfter > lastBefore, 'the survivor goes on from the killed leader’s last tick');

      // Every tick of the window, first to last, has a job, but for those that fell due while no
      // replica fired: one run strictly between the killed leader's last tick and the
      // survivor's first. Before it the killed leader, after it the survivor fired every tick.
      const missing: number[] = [];
      for (let tick = ticks[0]!; tick <= ticks.at(-1)!; tick += 1000) {
        if (!ticks.includes(tick)) missing.push(tick);
      }
      for (const tick of missing) {
        assert.ok(
          tick > lastBefore && tick < firstAfter,
          `tick ${new Date(tick).toISOString()} missing outside the leaderless gap`,
        );
      }
      t.diagnostic(`${ticks.length} ticks fired, ${missing.length} passed while no replica led`);
      // missed: skip — the survivor's first fire is the latest due tick, within the grace (60 s).
      const first = afterKill.find((j) => tickOf(j) === firstAfter)!;
      assert.ok(first.createdAt >= firstAfter, 'fired once due');
      assert.ok(first.createdAt - firstAfter <= 60_000, 'within the grace');
    } finally {
      if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
      if (b && b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
    }
  },
);
