/**
 * The chaos checker: Jepsen's `total-queue` adapted to gaffer (research/reliability.md, checker Q).
 * Pure: it judges what the run recorded — the client's submissions, the workers' ledger, the
 * store's final records, the faults injected and the residue read after the drain.
 *
 * Measures and their rules:
 * - `lost`: acknowledged (a 2xx with a job id) but not terminal after the drain — must be 0.
 * - `unexpected`: a job in the store no submission asked for — must be 0.
 * - `recovered`: attempted, never acknowledged (the client gave up or gaffer died), yet in the
 *   store: allowed, reported.
 * - `doubleTerminal`: a job whose record was written by a stale attempt, or that ran again after
 *   its record ended — the stored result is not its last attempt's, or the ledger shows an
 *   attempt beyond the record's — must be 0 (the lease-token CAS forbids both).
 * - `dupExec`: completed executions beyond one per job. Each must be explained by a fault the
 *   harness injected on the process that ran it (`worker_lost`, `lease_expired`,
 *   `gaffer_restart`, `redelivered`, `disk_full`); `unexplained` must be 0, all of them within
 *   `dupBound` — a fault cuts short only the jobs in flight, a full disk those that completed
 *   while it lasted — and no two executions of a job may
 *   share an attempt number (each run is a new lease).
 * - `dupEffect`: side-effect rows beyond one per job — must be 0 (the handler upserts by job id).
 * - `wrongOutcome`: a normal job that did not succeed, or a poison job not dead-lettered after
 *   `maxAttempts` attempts, or run more often than that, or a job `expired` (a terminal state:
 *   not lost) that was not submitted with an expiry or ran all the same — must be 0.
 * - residue: non-terminal jobs in the store, messages in the broker, orphan processes — all 0.
 * - refusals: a submission refused while a fault lasts must be a 503 or 507 with a stable code
 *   (the client retries it); any other 5xx fails the run.
 * - `schedule` (a run with a cron schedule, `CheckInput.schedule`): its jobs are those whose
 *   idempotency key is `schedule:<name>:<tick ISO>` (src/schedules/runner.ts `tickKey`); each must
 *   name a tick of the schedule (on its grid, after it was first seen): `offGrid` must be 0. A tick
 *   with two jobs is a double fire: `doubleFired` must be 0 (its job run twice is a duplicate
 *   execution, judged as any other). A tick with no job (`missing`) between the first seen and
 *   the last fired one is allowed only as the missed policy drops it: under `catchUp: N`, when at
 *   least N later ticks had fallen due by the time the next tick after it was fired (its job's
 *   creation, on the store's clock) — the catch-up fired the N latest; under `skip`, when it fell
 *   due while gaffer was down (a `gaffer_restart` fault, from one pass before the kill to its
 *   end). The last tick fired must be within `tailMs` of the pause that ended the run.
 * - `rate` (a rate-limited type, `CheckInput.rateLimit`): no more than `starts` claims of the
 *   type in any `perSeconds` window, from the store's claim times (every attempt's, retries too;
 *   faults excuse nothing: the store enforces the limit at the claim); and no job of the type
 *   executed (its ledger start lines) more often than the store claimed it — an execution without
 *   a claim would escape the limit: `rateExceeded` must be 0.
 */

export interface Submission {
  key: string;
  /** `expiring`: submitted with an expiry: it succeeds, or expires without ever running. */
  kind: 'normal' | 'poison' | 'expiring';
  /** The job id a 2xx answered with; null when never acknowledged. */
  jobId: string | null;
}

/** One line of the workers' ledger: an execution started, or one that completed. */
export interface LedgerEntry {
  t: 'start' | 'end';
  job: string;
  attempt: number;
  pid: number;
  /**
   * The parent of `pid`: its worker, when the execution ran sandboxed (a suspect job runs in a
   * child process of its worker, src/worker/sandbox-runner.ts), and a fault on that worker cuts
   * it short too. Absent in ledgers written before it was recorded.
   */
  ppid?: number;
  at: number;
  /** `end` only: the result's nonce, unique per execution. */
  nonce?: string;
  /** `start` of a poison job's execution (it kills its own worker). */
  poison?: boolean;
}

export interface FinalJob {
  id: string;
  idempotencyKey: string | null;
  state: string;
  attempt: number;
  /** The stored result's nonce (a succeeded job's), else null. */
  nonce: string | null;
  /** When the store created it (store clock ms): the schedule rule reads its jobs'. */
  createdAt?: number;
}

/** A cron schedule the run's gaffer fired (every `everyMs`, on the grid of its multiples). */
export interface ScheduleCheck {
  name: string;
  everyMs: number;
  missed: 'skip' | { catchUp: number };
  /** When gaffer first saw it (the store's schedule state): only later ticks are due. */
  since: number;
  /** When the operator's pause that ended the run was answered. */
  pausedAt: number;
  /** How long the runner passes take apart (its interval): the widening of an outage for skip. */
  passMs: number;
  /** The last fired tick may be at most this long before the pause. */
  tailMs: number;
}

/** A rate-limited type: its claims as the store recorded them. */
export interface RateCheck {
  starts: number;
  perSeconds: number;
  /** Every claim of the type's jobs: the job and the store's clock at the claim. */
  claims: readonly { job: string; at: number }[];
}

/** A fault the harness injected: on a process (`pids`) during [at, until]. */
export interface Fault {
  kind:
    | 'worker_lost'
    | 'lease_expired'
    | 'gaffer_restart'
    | 'redelivered'
    | 'broker_unreachable'
    | 'disk_full'
    | 'apiserver_paused'
    | 'pod_deleted';
  at: number;
  until: number;
  /**
   * The processes it hit, each with its children (an execution whose `pid` or `ppid` is one);
   * empty: every process running at the time (a broker or gaffer fault).
   */
  pids: number[];
}

export interface Residue {
  /** Jobs of the run still queued, starting or running. */
  unfinished: number;
  /** Messages ready or unacknowledged in the broker (0 for the embedded broker's store). */
  brokerMessages: number;
  /** Processes of the run alive after gaffer stopped. */
  orphans: number;
}

export interface CheckInput {
  submissions: readonly Submission[];
  ledger: readonly LedgerEntry[];
  jobs: readonly FinalJob[];
  /** Side-effect rows per job id. */
  effects: ReadonlyMap<string, number>;
  faults: readonly Fault[];
  residue: Residue;
  maxAttempts: number;
  /** Jobs in flight at most at once (pool max × concurrency): what one fault can cut short. */
  maxInFlight: number;
  /** Submissions refused on the way, by "status code" or "unreachable" (each was retried). */
  refused: Readonly<Record<string, number>>;
  schedule?: ScheduleCheck;
  rateLimit?: RateCheck;
}

export interface ScheduleReport {
  fired: number;
  /** Ticks with no job that the missed policy explains. */
  dropped: number;
  missing: number;
  doubleFired: number;
  offGrid: number;
}

export interface RateReport {
  claims: number;
  /** The most claims in any window of the limit's length. */
  maxInWindow: number;
  /** Windows over the limit, and jobs executed more often than claimed. */
  rateExceeded: number;
}

export interface Report {
  attempted: number;
  acknowledged: number;
  lost: number;
  unexpected: number;
  recovered: number;
  doubleTerminal: number;
  dupExec: number;
  dupReasons: Record<string, number>;
  unexplained: number;
  sameAttempt: number;
  /** Of the explained duplicates, those that ran sandboxed, explained by a fault on the worker. */
  sandboxed: number;
  dupEffect: number;
  wrongOutcome: number;
  residue: Residue;
  refused: Readonly<Record<string, number>>;
  schedule: ScheduleReport | null;
  rate: RateReport | null;
  /** Every rule held. */
  valid: boolean;
  /** What broke each rule, a few examples each (empty when valid). */
  problems: string[];
}

/** The states a job ends in, as the checker models them (its own list, not gaffer's table). */
export const TERMINAL: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'dead_lettered',
  'timed_out',
  'cancelled',
  'expired',
]);

export function check(input: CheckInput): Report {
  const problems: string[] = [];
  const byKey = new Map(input.submissions.map((s) => [s.key, s]));
  const byId = new Map(input.jobs.map((j) => [j.id, j]));
  const runs = groupLedger(input.ledger);

  const acked = input.submissions.filter((s) => s.jobId !== null);
  const lost = acked.filter((s) => !TERMINAL.has(byId.get(s.jobId!)?.state ?? 'missing'));
  note(
    problems,
    'lost',
    lost.map((s) => `${s.key} → ${s.jobId} ${byId.get(s.jobId!)?.state ?? 'missing'}`),
  );
  const ticked = input.schedule ? tickJobs(input.schedule, input.jobs) : new Map<string, number>();
  const unexpected = input.jobs.filter(
    (j) => !j.idempotencyKey || (!byKey.has(j.idempotencyKey) && !ticked.has(j.id)),
  );
  note(
    problems,
    'unexpected',
    unexpected.map((j) => j.id),
  );
  const ackedIds = new Set(acked.map((s) => s.jobId));
  const recovered = input.jobs.filter(
    (j) => !ackedIds.has(j.id) && !unexpected.includes(j) && !ticked.has(j.id),
  );

  const double: string[] = [];
  const wrong: string[] = [];
  let dupExec = 0;
  const unexplainedRuns: string[] = [];
  let sandboxed = 0;
  let sameAttempt = 0;
  const dupReasons: Record<string, number> = {};
  for (const job of input.jobs) {
    const run = runs.get(job.id) ?? { starts: [], ends: [] };
    const kind = byKey.get(job.idempotencyKey ?? '')?.kind ?? 'normal';
    if (doubleTerminal(job, run)) double.push(job.id);
    if (!rightOutcome(job, kind, run, input.maxAttempts)) {
      wrong.push(`${job.id} (${kind}) ${job.state} after ${run.starts.length} executions`);
    }
    const attempts = new Set(run.ends.map((e) => e.attempt));
    sameAttempt += run.ends.length - attempts.size;
    for (const extra of run.ends
      .filter((e) => e.nonce !== job.nonce)
      .slice(0, run.ends.length - 1)) {
      dupExec++;
      const reason = explain(extra, input.faults);
      if (reason) dupReasons[reason] = (dupReasons[reason] ?? 0) + 1;
      if (reason && !input.faults.some((f) => f.pids.includes(extra.pid))) {
        if (input.faults.some((f) => throughParent(f, extra))) sandboxed++;
      }
      if (!reason) unexplainedRuns.push(`${job.id} attempt ${extra.attempt} (${processOf(extra)})`);
    }
  }
  note(problems, 'double terminal', double);
  note(problems, 'wrong outcome', wrong);
  const unexplained = unexplainedRuns.length;
  if (unexplained > 0) {
    const which = unexplainedRuns.slice(0, 5).join(', ');
    problems.push(`${unexplained} duplicate execution(s) no fault explains: ${which}`);
  }
  const bound = dupBound(input);
  if (dupExec > bound) problems.push(`${dupExec} duplicate executions > the bound ${bound}`);
  if (sameAttempt > 0) problems.push(`${sameAttempt} execution(s) repeated an attempt number`);
  let dupEffect = 0;
  for (const n of input.effects.values()) dupEffect += Math.max(0, n - 1);
  if (dupEffect > 0) problems.push(`${dupEffect} duplicate side effect(s)`);
  // A refusal must say why: a 5xx other than 503 (unavailable) or 507 (out of space) is a bug.
  const bare = Object.keys(input.refused).filter((k) => /^5/.test(k) && !/^50[37] GAFFER_/.test(k));
  if (bare.length > 0) problems.push(`refusals without a reason: ${bare.join(', ')}`);
  const schedule = input.schedule ? checkSchedule(input, input.schedule, ticked, problems) : null;
  const rate = input.rateLimit ? checkRate(input, input.rateLimit, problems) : null;
  const r = input.residue;
  if (r.unfinished + r.brokerMessages + r.orphans > 0) {
    problems.push(
      `residue: ${r.unfinished} unfinished, ${r.brokerMessages} broker messages, ${r.orphans} orphans`,
    );
  }
  return {
    attempted: input.submissions.length,
    acknowledged: acked.length,
    lost: lost.length,
    unexpected: unexpected.length,
    recovered: recovered.length,
    doubleTerminal: double.length,
    dupExec,
    dupReasons,
    unexplained,
    sameAttempt,
    sandboxed,
    dupEffect,
    wrongOutcome: wrong.length,
    residue: r,
    refused: input.refused,
    schedule,
    rate,
    valid: problems.length === 0,
    problems,
  };
}

/** The schedule's jobs: job id → the tick its key names (NaN: a key of its name naming no time). */
function tickJobs(sc: ScheduleCheck, jobs: readonly FinalJob[]): Map<string, number> {
  const prefix = `schedule:${sc.name}:`;
  const out = new Map<string, number>();
  for (const j of jobs) {
    if (j.idempotencyKey?.startsWith(prefix)) {
      const iso = j.idempotencyKey.slice(prefix.length);
      // Only a full ISO time: Date.parse reads "manual:…" or a bare date too loosely.
      out.set(j.id, /^\d{4}-\d\d-\d\dT/.test(iso) ? Date.parse(iso) : NaN);
    }
  }
  return out;
}

function checkSchedule(
  input: CheckInput,
  sc: ScheduleCheck,
  ticked: ReadonlyMap<string, number>,
  problems: string[],
): ScheduleReport {
  const created = new Map(input.jobs.map((j) => [j.id, j.createdAt ?? NaN]));
  const byTick = new Map<number, string[]>();
  const offGrid: string[] = [];
  for (const [job, tick] of ticked) {
    if (!Number.isFinite(tick) || tick % sc.everyMs !== 0 || tick <= sc.since) offGrid.push(job);
    else byTick.set(tick, [...(byTick.get(tick) ?? []), job]);
  }
  note(problems, 'job(s) naming no tick of the schedule', offGrid);
  const doubles = [...byTick].filter(([, jobs]) => jobs.length > 1);
  note(
    problems,
    'cron tick(s) fired more than once',
    doubles.map(([t, jobs]) => `${new Date(t).toISOString()} → ${jobs.join(' ')}`),
  );
  const fired = [...byTick.keys()].sort((a, b) => a - b);
  const last = fired.at(-1);
  if (last === undefined || last < sc.pausedAt - sc.tailMs) {
    const when = last === undefined ? 'never fired' : `last fired ${new Date(last).toISOString()}`;
    problems.push(`the schedule ${when}, more than ${sc.tailMs} ms before its pause`);
  }
  const missing: string[] = [];
  let dropped = 0;
  let next = 0; // index in `fired` of the first fired tick after t
  const firstDue = (Math.floor(sc.since / sc.everyMs) + 1) * sc.everyMs;
  for (let t = firstDue; last !== undefined && t < last; t += sc.everyMs) {
    while (fired[next]! <= t) next++;
    if (byTick.has(t)) continue;
    const after = fired[next]!;
    const firedAt = created.get(byTick.get(after)![0]!) ?? NaN;
    if (dropsTick(sc, t, firedAt, input.faults)) dropped++;
    else missing.push(new Date(t).toISOString());
  }
  note(problems, 'cron tick(s) missing, beyond what the missed policy explains', missing);
  return {
    fired: fired.length,
    dropped,
    missing: missing.length,
    doubleFired: doubles.length,
    offGrid: offGrid.length,
  };
}

/**
 * Whether the missed policy dropped tick `t`, the next tick after it fired at `firedAt` (its job's
 * creation, a little after the pass that decided it read the time): `catchUp: N` drops a tick
 * when N later ones were due at that pass; `skip` keeps only the latest due, so it drops any tick
 * the runner passed late — explained only while gaffer was down (it passes every `passMs`).
 */
function dropsTick(sc: ScheduleCheck, t: number, firedAt: number, faults: readonly Fault[]) {
  if (sc.missed !== 'skip') {
    const laterDue = Math.floor(firedAt / sc.everyMs) - Math.floor(t / sc.everyMs);
    return laterDue >= sc.missed.catchUp;
  }
  return faults.some((f) => f.kind === 'gaffer_restart' && t >= f.at - sc.passMs && t <= f.until);
}

/** At most `starts` claims in any window of `perSeconds`, and no execution without a claim. */
function checkRate(input: CheckInput, rl: RateCheck, problems: string[]): RateReport {
  const w = rl.perSeconds * 1000;
  const at = rl.claims.map((c) => c.at).sort((a, b) => a - b);
  // The store counts a claim while it is younger than the window: claims i and i + starts
  // must be at least a window apart.
  const over: string[] = [];
  let maxInWindow = Math.min(at.length, 1);
  for (let i = 0, j = 0; j < at.length; j++) {
    while (at[j]! - at[i]! >= w) i++;
    maxInWindow = Math.max(maxInWindow, j - i + 1);
    if (j - i + 1 > rl.starts) over.push(`${j - i + 1} claims from ${at[i]} to ${at[j]}`);
  }
  note(problems, `rate-limit window(s) over ${rl.starts} per ${rl.perSeconds} s`, over);
  const claimed = new Map<string, number>();
  for (const c of rl.claims) claimed.set(c.job, (claimed.get(c.job) ?? 0) + 1);
  const unclaimed: string[] = [];
  for (const [job, run] of groupLedger(input.ledger)) {
    const n = claimed.get(job) ?? 0;
    if (run.starts.length > n) unclaimed.push(`${job} ran ${run.starts.length}, claimed ${n}`);
  }
  note(problems, 'job(s) executed more often than the store claimed them', unclaimed);
  return { claims: at.length, maxInWindow, rateExceeded: over.length + unclaimed.length };
}

interface Runs {
  starts: LedgerEntry[];
  ends: LedgerEntry[];
}

function groupLedger(ledger: readonly LedgerEntry[]): Map<string, Runs> {
  const out = new Map<string, Runs>();
  for (const e of ledger) {
    let run = out.get(e.job);
    if (!run) out.set(e.job, (run = { starts: [], ends: [] }));
    (e.t === 'start' ? run.starts : run.ends).push(e);
  }
  return out;
}

/** A stale attempt's result was stored, or the job ran again after its record ended. */
function doubleTerminal(job: FinalJob, run: Runs): boolean {
  if (run.starts.some((s) => s.attempt > job.attempt)) return true;
  if (job.state !== 'succeeded') return false;
  const stored = run.ends.find((e) => e.nonce === job.nonce);
  return !stored || stored.attempt !== job.attempt;
}

/**
 * A normal job succeeded; a poison job was dead-lettered once its attempts were spent, having run
 * at most that many times. It may have run fewer: an attempt is spent when it is claimed, and a
 * worker killed by another poison job it also held can die before this one's handler starts.
 */
function rightOutcome(job: FinalJob, kind: Submission['kind'], run: Runs, max: number): boolean {
  if (job.state === 'expired') return kind === 'expiring' && run.starts.length === 0;
  if (kind === 'normal' || kind === 'expiring') return job.state === 'succeeded';
  const runs = run.starts.length;
  return job.state === 'dead_lettered' && job.attempt === max && runs >= 1 && runs <= max;
}

/**
 * The most duplicate executions the faults can explain: a fault on a process, on gaffer or on the
 * broker cuts short at most the jobs in flight; a full disk refuses the report of every job that
 * completes while it lasts (and no new claim commits meanwhile), so it counts those.
 */
function dupBound(input: CheckInput): number {
  let bound = 0;
  for (const f of input.faults) {
    if (f.kind !== 'disk_full') bound += input.maxInFlight;
    else {
      bound += input.ledger.filter((e) => e.t === 'end' && e.at >= f.at && e.at <= f.until).length;
    }
  }
  return bound;
}

/** How long a completed execution may take to reach the store when nothing goes wrong. */
const REPORT_MS = 10_000;
/** How long a sandbox may run on after its worker died before it notices and exits. */
const NOTICE_MS = 10_000;

/**
 * The fault that made a completed execution's result go unrecorded, if the harness caused one: a
 * kill (of its worker, of gaffer, of the broker) shortly after it completed, before its report
 * reached the store — or, for a sandboxed execution, shortly before: its worker was gone; or a
 * pause of its worker that outlived the lease, from shortly after the execution completed (its
 * report not yet sent) or while it ran: the report, sent on resuming, was refused as stale. A
 * paused API server or a deleted pod explains none: workers never talk to the API server, and a
 * deleted pod's worker drains before its pod goes.
 */
function explain(e: LedgerEntry, faults: readonly Fault[]): string | null {
  const hit = faults.find((f) => {
    if (f.kind === 'apiserver_paused' || f.kind === 'pod_deleted') return false;
    if (f.pids.length > 0 && !hitProcess(f, e)) return false;
    if (f.kind === 'lease_expired') return e.at >= f.at - REPORT_MS;
    // A sandbox outlives its killed worker until it notices (its IPC channel closed): a handler
    // whose timer was due runs on first, and writes its end line after the kill. Its result has
    // no one left to report it to.
    const after = throughParent(f, e) ? NOTICE_MS : 0;
    return e.at <= f.until + after && e.at >= f.at - REPORT_MS;
  });
  return hit?.kind ?? null;
}

/**
 * The fault hit the process that ran the execution: that process, or its parent — a sandboxed
 * execution's worker. A kill of the worker between the sandbox's end and the worker's report of
 * it loses the result as surely as a kill of an in-process execution's worker does; a pause of the
 * worker leaves its sandbox running, and the result it passes on late is refused as stale.
 */
function hitProcess(f: Fault, e: LedgerEntry): boolean {
  return f.pids.includes(e.pid) || throughParent(f, e);
}

/** The fault hit the execution's parent, not its own process: a sandboxed execution's worker. */
function throughParent(f: Fault, e: LedgerEntry): boolean {
  return !f.pids.includes(e.pid) && e.ppid !== undefined && f.pids.includes(e.ppid);
}

function processOf(e: LedgerEntry): string {
  return e.ppid === undefined ? `pid ${e.pid}` : `pid ${e.pid}, parent ${e.ppid}`;
}

function note(problems: string[], what: string, items: readonly string[]): void {
  if (items.length > 0) {
    problems.push(
      `${items.length} ${what}: ${items.slice(0, 5).join(', ')}${items.length > 5 ? ', …' : ''}`,
    );
  }
}
