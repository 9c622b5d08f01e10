import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, type CheckInput, type LedgerEntry } from '../../chaos/checker.ts';

// The chaos checker's rules, one table row each: a clean run, then each way of breaking a rule.
const start = (job: string, attempt: number, pid: number, at: number): LedgerEntry => ({
  t: 'start',
  job,
  attempt,
  pid,
  at,
});
const end = (job: string, attempt: number, pid: number, at: number, nonce: string) => ({
  ...start(job, attempt, pid, at),
  t: 'end' as const,
  nonce,
});

/** Two jobs, each run once and succeeded; nothing left behind. */
const clean: CheckInput = {
  submissions: [
    { key: 'k1', kind: 'normal', jobId: 'j1' },
    { key: 'k2', kind: 'normal', jobId: 'j2' },
  ],
  ledger: [
    start('j1', 1, 10, 100),
    end('j1', 1, 10, 200, 'n1'),
    start('j2', 1, 10, 100),
    end('j2', 1, 10, 200, 'n2'),
  ],
  jobs: [
    { id: 'j1', idempotencyKey: 'k1', state: 'succeeded', attempt: 1, nonce: 'n1' },
    { id: 'j2', idempotencyKey: 'k2', state: 'succeeded', attempt: 1, nonce: 'n2' },
  ],
  effects: new Map([
    ['k1', 1],
    ['k2', 1],
  ]),
  faults: [],
  residue: { unfinished: 0, brokerMessages: 0, orphans: 0 },
  maxAttempts: 3,
  maxInFlight: 2,
  refused: {},
};

/** j1 ran twice: attempt 1 completed on pid 10 but its report was lost, attempt 2 on pid 11. */
const rerun: Partial<CheckInput> = {
  ledger: [
    start('j1', 1, 10, 100),
    end('j1', 1, 10, 200, 'old'),
    start('j1', 2, 11, 5000),
    end('j1', 2, 11, 5100, 'n1'),
    start('j2', 1, 10, 100),
    end('j2', 1, 10, 200, 'n2'),
  ],
  jobs: [
    { id: 'j1', idempotencyKey: 'k1', state: 'succeeded', attempt: 2, nonce: 'n1' },
    clean.jobs[1]!,
  ],
};

/**
 * A schedule firing every second since 10:00:00.5 (so 10:00:01 is its first tick), paused at
 * 10:00:06.2: its ticks' jobs t1…t5 ran once each, created 300 ms after their ticks.
 */
const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const tick = (s: number, id = `t${s}`, createdAt = T0 + s * 1000 + 300) => ({
  id,
  idempotencyKey: `schedule:every:${new Date(T0 + s * 1000).toISOString()}`,
  state: 'succeeded',
  attempt: 1,
  nonce: `n-${id}`,
  createdAt,
});
const ticks = (list: ReturnType<typeof tick>[]): Partial<CheckInput> => ({
  submissions: [],
  jobs: list,
  ledger: list.flatMap((j) => [start(j.id, 1, 10, 1), end(j.id, 1, 10, 2, j.nonce)]),
  effects: new Map(),
});
const scheduled: Partial<CheckInput> = {
  ...ticks([1, 2, 3, 4, 5].map((s) => tick(s))),
  schedule: {
    name: 'every',
    everyMs: 1000,
    missed: { catchUp: 2 },
    since: T0 + 500,
    pausedAt: T0 + 6200,
    passMs: 1000,
    tailMs: 3000,
  },
};
/** Ticks 2 and 3 passed while gaffer was down (killed at 10:00:01.5, back at 10:00:04.5). */
const outage = { kind: 'gaffer_restart' as const, at: T0 + 1500, until: T0 + 4500, pids: [] };
const rated = (claims: number[]): Partial<CheckInput> => ({
  rateLimit: {
    starts: 2,
    perSeconds: 1,
    claims: claims.map((at, i) => ({ job: i % 2 ? 'j2' : 'j1', at })),
  },
});

const table: [string, Partial<CheckInput>, Partial<ReturnType<typeof check>>][] = [
  ['a clean run', {}, { valid: true, lost: 0, dupExec: 0 }],
  [
    'an acknowledged job never ended: lost',
    { jobs: [{ ...clean.jobs[0]!, state: 'queued', nonce: null }, clean.jobs[1]!] },
    { valid: false, lost: 1 },
  ],
  [
    'a job nobody submitted: unexpected',
    {
      jobs: [
        ...clean.jobs,
        { id: 'j9', idempotencyKey: 'k9', state: 'succeeded', attempt: 1, nonce: null },
      ],
    },
    { valid: false, unexpected: 1 },
  ],
  [
    'not acknowledged (gaffer died mid-answer) yet stored: recovered, allowed',
    {
      submissions: [{ key: 'k1', kind: 'normal', jobId: null }, clean.submissions[1]!],
    },
    { valid: true, recovered: 1 },
  ],
  [
    "a stale attempt's result stored: double terminal",
    { jobs: [{ ...clean.jobs[0]!, attempt: 2 }, clean.jobs[1]!] },
    { valid: false, doubleTerminal: 1 },
  ],
  [
    'a duplicate execution a worker kill explains',
    { ...rerun, faults: [{ kind: 'worker_lost', at: 300, until: 300, pids: [10] }] },
    { valid: true, dupExec: 1, dupReasons: { worker_lost: 1 } },
  ],
  ['a duplicate execution no fault explains', rerun, { valid: false, dupExec: 1, unexplained: 1 }],
  [
    'a full disk explains the reports refused while it lasted',
    { ...rerun, faults: [{ kind: 'disk_full', at: 150, until: 400, pids: [] }], maxInFlight: 0 },
    { valid: true, dupExec: 1, dupReasons: { disk_full: 1 } },
  ],
  [
    'more duplicates than the faults could cut short',
    {
      ...rerun,
      faults: [{ kind: 'worker_lost', at: 300, until: 300, pids: [10] }],
      maxInFlight: 0,
    },
    { valid: false, dupExec: 1, unexplained: 0 },
  ],
  [
    'a kill of another process does not explain it',
    { ...rerun, faults: [{ kind: 'worker_lost', at: 300, until: 300, pids: [99] }] },
    { valid: false, unexplained: 1 },
  ],
  [
    // j1 was a suspect, so attempt 1 ran in a sandbox (pid 12) of worker 10; worker 10
    // was killed after the sandbox wrote its end line but before its report reached the store.
    'a kill of its worker explains a sandboxed execution (its parent)',
    {
      ...rerun,
      ledger: [
        { ...start('j1', 1, 12, 100), ppid: 10 },
        { ...end('j1', 1, 12, 200, 'old'), ppid: 10 },
        ...rerun.ledger!.slice(2),
      ],
      faults: [{ kind: 'worker_lost', at: 300, until: 300, pids: [10] }],
    },
    { valid: true, dupExec: 1, dupReasons: { worker_lost: 1 }, sandboxed: 1 },
  ],
  [
    // Seen in chaos/loop.ts runs: the sandbox's timer was due as its worker died; it
    // wrote its end line 5-10 ms after the kill, before it noticed the closed channel.
    'a kill of its worker explains a sandboxed execution that ended just after',
    {
      ...rerun,
      ledger: [
        { ...start('j1', 1, 12, 100), ppid: 10 },
        { ...end('j1', 1, 12, 310, 'old'), ppid: 10 },
        ...rerun.ledger!.slice(2),
      ],
      faults: [{ kind: 'worker_lost', at: 300, until: 300, pids: [10] }],
    },
    { valid: true, dupReasons: { worker_lost: 1 }, sandboxed: 1 },
  ],
  [
    'a kill does not explain an end of its own process after it',
    {
      ...rerun,
      ledger: [start('j1', 1, 10, 100), end('j1', 1, 10, 310, 'old'), ...rerun.ledger!.slice(2)],
      faults: [{ kind: 'worker_lost', at: 300, until: 300, pids: [10] }],
    },
    { valid: false, unexplained: 1 },
  ],
  [
    'nor a sandboxed execution that ended long after its worker was killed',
    {
      ...rerun,
      ledger: [
        { ...start('j1', 1, 12, 100), ppid: 10 },
        { ...end('j1', 1, 12, 20_000, 'old'), ppid: 10 },
        ...rerun.ledger!.slice(2),
      ],
      faults: [{ kind: 'worker_lost', at: 300, until: 300, pids: [10] }],
    },
    { valid: false, unexplained: 1 },
  ],
  [
    'a kill of another worker does not explain a sandboxed execution',
    {
      ...rerun,
      ledger: [
        { ...start('j1', 1, 12, 100), ppid: 10 },
        { ...end('j1', 1, 12, 200, 'old'), ppid: 10 },
        ...rerun.ledger!.slice(2),
      ],
      faults: [{ kind: 'worker_lost', at: 300, until: 300, pids: [11] }],
    },
    { valid: false, unexplained: 1 },
  ],
  [
    'a pause outliving the lease explains a late completion',
    {
      ...rerun,
      ledger: [start('j1', 1, 10, 100), end('j1', 1, 10, 9000, 'old'), ...rerun.ledger!.slice(2)],
      faults: [{ kind: 'lease_expired', at: 150, until: 8000, pids: [10] }],
    },
    { valid: true, dupReasons: { lease_expired: 1 } },
  ],
  [
    'a pause just after a completion, before its report reached the store, explains it',
    {
      ...rerun,
      ledger: [start('j1', 1, 10, 100), end('j1', 1, 10, 180, 'old'), ...rerun.ledger!.slice(2)],
      faults: [{ kind: 'lease_expired', at: 206, until: 5206, pids: [10] }],
    },
    { valid: true, dupReasons: { lease_expired: 1 } },
  ],
  [
    'a pause long after a completion explains nothing',
    {
      ...rerun,
      ledger: [start('j1', 1, 10, 100), end('j1', 1, 10, 180, 'old'), ...rerun.ledger!.slice(2)],
      faults: [{ kind: 'lease_expired', at: 30_000, until: 35_000, pids: [10] }],
    },
    { valid: false, unexplained: 1 },
  ],
  [
    'a submission run under two job ids: duplicate effect',
    {
      effects: new Map([
        ['k1', 2],
        ['k2', 1],
      ]),
    },
    { valid: false, dupEffect: 1 },
  ],
  [
    'a normal job dead-lettered: wrong outcome',
    { jobs: [{ ...clean.jobs[0]!, state: 'dead_lettered', nonce: null }, clean.jobs[1]!] },
    { valid: false, wrongOutcome: 1 },
  ],
  [
    'a poison job dead-lettered after its attempts: right',
    {
      submissions: [{ key: 'p1', kind: 'poison', jobId: 'p' }, clean.submissions[1]!],
      ledger: [
        ...[1, 2, 3].map((a) => ({ ...start('p', a, 10 + a, a * 1000), poison: true })),
        ...clean.ledger.slice(2),
      ],
      jobs: [
        { id: 'p', idempotencyKey: 'p1', state: 'dead_lettered', attempt: 3, nonce: null },
        clean.jobs[1]!,
      ],
    },
    { valid: true, wrongOutcome: 0 },
  ],
  [
    'a job with an expiry expired, never run: terminal, not lost, right',
    {
      submissions: [{ key: 'k1', kind: 'expiring', jobId: 'j1' }, clean.submissions[1]!],
      ledger: clean.ledger.slice(2),
      jobs: [{ ...clean.jobs[0]!, state: 'expired', attempt: 0, nonce: null }, clean.jobs[1]!],
      effects: new Map([['k2', 1]]),
    },
    { valid: true, lost: 0, wrongOutcome: 0 },
  ],
  [
    'an expired job that ran: wrong outcome',
    {
      submissions: [{ key: 'k1', kind: 'expiring', jobId: 'j1' }, clean.submissions[1]!],
      jobs: [{ ...clean.jobs[0]!, state: 'expired', nonce: null }, clean.jobs[1]!],
    },
    { valid: false, wrongOutcome: 1 },
  ],
  [
    'a job without an expiry expired: wrong outcome',
    {
      ledger: clean.ledger.slice(2),
      jobs: [{ ...clean.jobs[0]!, state: 'expired', attempt: 0, nonce: null }, clean.jobs[1]!],
      effects: new Map([['k2', 1]]),
    },
    { valid: false, wrongOutcome: 1 },
  ],
  [
    'messages left in the broker: residue',
    { residue: { unfinished: 0, brokerMessages: 2, orphans: 0 } },
    { valid: false },
  ],
  [
    'a refusal with a stable code while a fault lasts',
    { refused: { '507 GAFFER_STORE_FULL': 3 } },
    { valid: true },
  ],
  ['a bare 500', { refused: { '500 GAFFER_INTERNAL': 1 } }, { valid: false }],
  [
    'a schedule that fired each tick once',
    scheduled,
    {
      valid: true,
      unexpected: 0,
      recovered: 0,
      schedule: { fired: 5, dropped: 0, missing: 0, doubleFired: 0, offGrid: 0 },
    },
  ],
  [
    'a cron tick fired twice (two jobs name it): double fire',
    {
      ...scheduled,
      ...ticks([1, 2, 3, 4, 5].map((s) => tick(s)).concat(tick(3, 'again'))),
    },
    { valid: false, schedule: { fired: 5, dropped: 0, missing: 0, doubleFired: 1, offGrid: 0 } },
  ],
  [
    'two keys naming one tick (differently written): double fire',
    {
      ...scheduled,
      ...ticks([
        ...[1, 2, 3, 4, 5].map((s) => tick(s)),
        { ...tick(3, 'again'), idempotencyKey: 'schedule:every:2026-01-01T10:00:03Z' },
      ]),
    },
    { valid: false, schedule: { fired: 5, dropped: 0, missing: 0, doubleFired: 1, offGrid: 0 } },
  ],
  [
    "a tick's job run twice, no fault explains it: an unexplained duplicate",
    {
      ...scheduled,
      ledger: [...scheduled.ledger!, start('t2', 2, 11, 3), end('t2', 2, 11, 4, 'other')],
      jobs: scheduled.jobs!.map((j) => (j.id === 't2' ? { ...j, attempt: 2, nonce: 'other' } : j)),
    },
    { valid: false, unexplained: 1 },
  ],
  [
    'a job naming a time off the schedule: off grid',
    { ...scheduled, ...ticks([1, 2, 3, 4, 5].map((s) => tick(s)).concat(tick(4.5, 'half'))) },
    { valid: false, schedule: { fired: 5, dropped: 0, missing: 0, doubleFired: 0, offGrid: 1 } },
  ],
  [
    'a tick before the schedule was first seen: off grid',
    { ...scheduled, ...ticks([0, 1, 2, 3, 4, 5].map((s) => tick(s))) },
    { valid: false, schedule: { fired: 5, dropped: 0, missing: 0, doubleFired: 0, offGrid: 1 } },
  ],
  [
    'a manual trigger of the schedule is not one of its ticks',
    {
      ...scheduled,
      ...ticks([
        ...[1, 2, 3, 4, 5].map((s) => tick(s)),
        { ...tick(3, 'manual'), idempotencyKey: 'schedule:every:manual:2026-01-01T10:00:03.000Z' },
      ]),
    },
    { valid: false },
  ],
  [
    'a tick missing while gaffer ran on time: missing',
    { ...scheduled, ...ticks([1, 2, 4, 5].map((s) => tick(s))) },
    { valid: false, schedule: { fired: 4, dropped: 0, missing: 1, doubleFired: 0, offGrid: 0 } },
  ],
  [
    'catch-up 2 after an outage: the older tick dropped, the 2 latest fired late',
    {
      ...scheduled,
      ...ticks([tick(1), tick(3, 't3', T0 + 4600), tick(4, 't4', T0 + 4610), tick(5)]),
      faults: [outage],
    },
    { valid: true, schedule: { fired: 4, dropped: 1, missing: 0, doubleFired: 0, offGrid: 0 } },
  ],
  [
    'catch-up 2 firing only 1 of the ticks it owed: missing',
    {
      ...scheduled,
      ...ticks([tick(1), tick(4, 't4', T0 + 4600), tick(5)]),
      faults: [outage],
    },
    { valid: false, schedule: { fired: 3, dropped: 1, missing: 1, doubleFired: 0, offGrid: 0 } },
  ],
  [
    'skip: the ticks that fell due while gaffer was down are dropped',
    {
      ...scheduled,
      ...ticks([tick(1), tick(4, 't4', T0 + 4600), tick(5)]),
      schedule: { ...scheduled.schedule!, missed: 'skip' },
      faults: [outage],
    },
    { valid: true, schedule: { fired: 3, dropped: 2, missing: 0, doubleFired: 0, offGrid: 0 } },
  ],
  [
    'skip: a tick dropped with gaffer up is missing',
    {
      ...scheduled,
      ...ticks([tick(1), tick(4, 't4', T0 + 4600), tick(5)]),
      schedule: { ...scheduled.schedule!, missed: 'skip' },
    },
    { valid: false, schedule: { fired: 3, dropped: 0, missing: 2, doubleFired: 0, offGrid: 0 } },
  ],
  [
    'a schedule that stopped firing long before its pause',
    { ...scheduled, ...ticks([1, 2].map((s) => tick(s))) },
    { valid: false, schedule: { fired: 2, dropped: 0, missing: 0, doubleFired: 0, offGrid: 0 } },
  ],
  ['a schedule that never fired', { ...scheduled, ...ticks([]) }, { valid: false }],
  [
    'claims within the rate limit (2 per second)',
    rated([100, 200, 1100, 1200]),
    { valid: true, rate: { claims: 4, maxInWindow: 2, rateExceeded: 0 } },
  ],
  [
    'claims exactly a window apart are within the limit',
    rated([100, 200, 1100, 1200, 2100]),
    { valid: true, rate: { claims: 5, maxInWindow: 2, rateExceeded: 0 } },
  ],
  [
    'three claims within a second under a limit of 2: exceeded',
    rated([100, 200, 1099, 5000]),
    { valid: false, rate: { claims: 4, maxInWindow: 3, rateExceeded: 1 } },
  ],
  [
    'a retry is a claim too: exceeded, whatever fault struck',
    {
      ...rated([100, 150, 900]),
      faults: [{ kind: 'gaffer_restart', at: 0, until: 2000, pids: [] }],
    },
    { valid: false, rate: { claims: 3, maxInWindow: 3, rateExceeded: 1 } },
  ],
  [
    'an execution the store never claimed escapes the limit: exceeded',
    rated([100]),
    { valid: false, rate: { claims: 1, maxInWindow: 1, rateExceeded: 1 } },
  ],
];

for (const [name, patch, expected] of table) {
  test(`checker: ${name}`, () => {
    const report = check({ ...clean, ...patch });
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(
        report[key as keyof typeof report],
        value,
        `${key} (${report.problems.join('; ')})`,
      );
    }
  });
}
