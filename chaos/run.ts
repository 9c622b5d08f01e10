import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/servers/common.ts';
import { untilEvent } from '../test/helpers/process.ts';
import { UnderTest } from './gaffer-process.ts';
import {
  finalJobs,
  orphans,
  poisonFaults,
  readEffects,
  readLedger,
  scheduleSince,
  storeClaims,
  storeUnfinished,
  endedAttempts,
} from './observe.ts';
import type { Backend } from './backends.ts';
import {
  check,
  TERMINAL,
  type Fault,
  type RateCheck,
  type Report,
  type ScheduleCheck,
  type Submission,
} from './checker.ts';
import { delay, LIBFAKETIME, SKEW, strike, type FaultName } from './faults.ts';
import type { Profile } from './profile.ts';

/**
 * One chaos scenario: a real `gaffer up` process (fixed port, private data dir) on `backend`,
 * `profile.jobs` submissions from concurrent clients (each with an idempotency key, retried on
 * an error or a 5xx until acknowledged), the fault struck `profile.faults` times meanwhile, then
 * the drain (awaited on gaffer's event stream), the pool's return to its minimum, the residue
 * read, gaffer stopped, orphans looked for, and the checker's verdict.
 */
export async function runScenario(
  backend: Backend,
  fault: FaultName,
  profile: Profile,
  options: ScenarioOptions = {},
): Promise<ScenarioReport> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-chaos-'));
  const queue = `chaos-${path.basename(dir)}`;
  const port = await freePort();
  const dataDir = path.join(dir, 'data');
  // Disk-full: the data directory is a filesystem of its own, small enough to fill at once.
  if (fault === 'disk-full') mountSmall(dataDir);
  const args = writeConfig(dir, queue, backend, profile, port, fault);
  const faults: Fault[] = [];
  const t0 = Date.now();
  const phase = (what: string) =>
    log(`${fault}: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const gafferLog = path.join(dir, 'gaffer.log');
  const gaffer = await UnderTest.start(args, gafferLog);
  const url = gaffer.url;
  const record: Record<string, unknown> = { backend: backend.name, fault, profile, faults };
  let verdict: ScenarioReport | null = null;
  try {
    const jobCount = fault === 'schedules' ? profile.schedules.jobs : profile.jobs;
    const submissions = plan(jobCount, fault === 'poison' ? profile.poison : 0);
    // A burst: every submission at once, from many clients.
    const pacing = fault === 'burst' ? { ...profile, submitMs: 0, lanes: 64 } : profile;
    const submitting = submitAll(url, submissions, pacing);
    await striking(fault, profile, {
      profile,
      backend,
      url,
      dataDir,
      record: (f) => {
        faults.push(f);
        phase(`${f.kind} (pids ${f.pids.join(',') || 'all'})`);
      },
      restartGaffer: (downMs) => gaffer.restart(downMs),
    });
    const refused = await submitting;
    phase('faults struck, all submitted');
    // The schedule fires on after the last restart, then an operator's pause ends its ticks.
    const pausedAt = fault === 'schedules' ? await pauseSchedule(url, faults, profile) : 0;
    if (pausedAt) phase('schedule fired after the last restart, paused');
    const submitted = Date.now();
    await drained(url, profile);
    const drainMs = Date.now() - submitted;
    phase('drained');
    const jobs = await finalJobs(url);
    const settling = Date.now();
    const brokerMessages = await brokerSettled(backend, queue, profile);
    const settleMs = Date.now() - settling;
    phase(`settled: ${brokerMessages} left after ${settleMs} ms`);
    await gaffer.stop();
    await backend.between?.(); // what outlives gaffer by design goes before the orphan search
    const ledger = readLedger(dir);
    Object.assign(record, { submissions, jobs, brokerMessages });
    const timed = fault === 'schedules' ? timeChecks(dataDir, profile, pausedAt) : {};
    const keyOf = new Map(jobs.map((j) => [j.id, j.idempotencyKey]));
    const report = check({
      ...timed,
      submissions,
      ledger,
      jobs,
      effects: readEffects(dir, TICK_PAYLOAD.key, keyOf),
      faults: [...faults, ...poisonFaults(ledger)],
      residue: {
        // As gaffer answered before it stopped, and as its store file says after.
        unfinished: Math.max(
          jobs.filter((j) => !TERMINAL.has(j.state)).length,
          storeUnfinished(dataDir),
        ),
        brokerMessages,
        orphans: orphans(dir).length,
      },
      maxAttempts: profile.maxAttempts,
      maxInFlight: profile.max * profile.concurrency,
      refused,
    });
    verdict = { ...report, drainMs, settleMs, attemptsEnded: endedAttempts(dataDir) };
    return verdict;
  } catch (err) {
    const why = gaffer.crashed ? new Error(`gaffer exited on its own: ${gaffer.crashed}`) : err;
    record['error'] = String((why as Error).stack ?? why);
    throw why;
  } finally {
    await gaffer.kill();
    record['report'] = verdict;
    if (verdict === null || !verdict.valid) keep(dir, options.keep, record, gafferLog);
    else if (options.keepAlways && options.keep) keep(dir, options.keep, record, gafferLog);
    await backend.between?.().catch((err: Error) => log(`cleaning up failed: ${err.message}`));
    for (const pid of orphans(dir)) process.kill(pid, 'SIGKILL');
    // Lazy: a process just killed may still hold a file there for a moment.
    if (fault === 'disk-full') spawnSync('umount', ['-l', dataDir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The `schedules` scenario's cron schedule: every second, what its ticks submit. */
const SCHEDULE = 'chaos-tick';
const TICK_PAYLOAD = { key: `schedule:${SCHEDULE}`, ms: 20 };
/** The schedule runner's pass interval (src/schedules/runner.ts). */
const PASS_MS = 1000;
/** The last tick fired may be this long before the pause (the run awaits one after the faults). */
const TAIL_MS = 10_000;

/**
 * Awaits a tick fired after the last gaffer restart had settled (its fault's `until`), then pauses
 * the schedule (an operator's pause: its ticks stop, and the run can drain). Resolves with the
 * time the pause was answered.
 */
async function pauseSchedule(url: string, faults: Fault[], profile: Profile): Promise<number> {
  const after = Math.max(0, ...faults.map((f) => f.until));
  await untilEvent(
    url,
    async () => {
      const res = await fetch(`${url}/v1/schedules/${SCHEDULE}`);
      const { schedule } = (await res.json()) as { schedule: { lastRun: { at: number } | null } };
      return (schedule.lastRun?.at ?? 0) > after;
    },
    profile.drainMs,
  );
  const res = await fetch(`${url}/v1/schedules/${SCHEDULE}/pause`, { method: 'POST' });
  if (!res.ok) throw new Error(`pausing the schedule: ${res.status} ${await res.text()}`);
  return Date.now();
}

/** The schedule's and the rate limit's inputs to the checker, read from the stopped store. */
function timeChecks(
  dataDir: string,
  profile: Profile,
  pausedAt: number,
): { schedule: ScheduleCheck; rateLimit: RateCheck } {
  const { starts, perSeconds, catchUp } = profile.schedules;
  return {
    schedule: {
      name: SCHEDULE,
      everyMs: 1000,
      missed: { catchUp },
      since: scheduleSince(dataDir, SCHEDULE),
      pausedAt,
      passMs: PASS_MS,
      tailMs: TAIL_MS,
    },
    rateLimit: { starts, perSeconds, claims: storeClaims(dataDir, 'chaos') },
  };
}

/** The checker's verdict, and how long the run's last phases took. */
export interface ScenarioReport extends Report {
  /** From the last submission and fault to the drain. */
  drainMs: number;
  /** From the drain to the backend's residue reaching nothing (or the bound, `settleMs`). */
  settleMs: number;
  /** The attempts that did not succeed, by how gaffer recorded their end (`endedAttempts`). */
  attemptsEnded: Record<string, number>;
}

export interface ScenarioOptions {
  /**
   * Where a failed run's artefacts go (a folder made for it): the run's directory as it was —
   * the ledger, the side effects, gaffer's config, its log (`gaffer.log`) and its data dir
   * (the SQLite store, whose `job_attempts` say how each attempt ended) — and `run.json`: the
   * checker's report, the faults struck, the submissions and the jobs as gaffer answered them.
   * Unset: nothing is kept, and the tail of gaffer's log is printed instead.
   */
  keep?: string;
  /** Keep a valid run's artefacts too (in `keep`). */
  keepAlways?: boolean;
}

/** A failed run's evidence, kept before its directory is removed (see ScenarioOptions). */
function keep(
  dir: string,
  to: string | undefined,
  record: Record<string, unknown>,
  gafferLog: string,
): void {
  if (!to) {
    const tail = existsSync(gafferLog)
      ? readFileSync(gafferLog, 'utf8').split('\n').slice(-40)
      : [];
    console.error(`chaos: gaffer's log, last lines:\n${tail.join('\n')}`);
    return;
  }
  try {
    mkdirSync(path.dirname(to), { recursive: true });
    cpSync(dir, to, { recursive: true, filter: (src) => path.basename(src) !== 'filler' });
    writeFileSync(path.join(to, 'run.json'), JSON.stringify(record, null, 1));
  } catch (err) {
    console.error(`chaos: keeping the run's artefacts in ${to} failed: ${(err as Error).message}`);
  }
}

function log(line: string): void {
  if (process.env['CHAOS_VERBOSE']) console.error(`chaos: ${line}`);
}

function writeConfig(
  dir: string,
  queue: string,
  backend: Backend,
  profile: Profile,
  port: number,
  fault: FaultName,
): string[] {
  const env: Record<string, string> = { CHAOS_DIR: dir };
  if (fault === 'clock-skew') {
    Object.assign(env, { LD_PRELOAD: LIBFAKETIME, FAKETIME: SKEW, DONT_FAKE_MONOTONIC: '1' });
  }
  // JSON is YAML: the config file is written as JSON.
  const config = merge(backend.gaffer ?? {}, {
    autoscaler: { intervalMs: 200 },
    // A dead worker's deliveries go back after the lease TTL, not the default 30 s.
    broker: { ...backend.broker, visibilityTimeoutMs: profile.ttlMs },
    leases: { ttlMs: profile.ttlMs, sweepMs: Math.round(profile.ttlMs / 4) },
    jobTypes: {
      chaos: merge(backend.typeExtras ?? {}, {
        queue,
        worker: { handler: 'chaos/handler.ts', env },
        concurrency: profile.concurrency,
        timeoutSeconds: 60,
        retry: { maxAttempts: profile.maxAttempts, backoffMs: 100, maxBackoffMs: 1000 },
        scaling: {
          min: POOL_MIN,
          max: profile.max,
          threshold: 1,
          burst: profile.max,
          idleSeconds: 1,
        },
      }),
    },
  });
  if (fault === 'schedules') {
    const { starts, perSeconds, catchUp } = profile.schedules;
    (config['jobTypes'] as { chaos: Record<string, unknown> }).chaos['rateLimit'] = {
      starts,
      perSeconds,
    };
    config['schedules'] = {
      [SCHEDULE]: {
        cron: '* * * * * *', // every second
        submit: { type: 'chaos', payload: TICK_PAYLOAD },
        missed: { catchUp },
      },
    };
  }
  const file = path.join(dir, 'gaffer.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return ['--config', file, '--data-dir', path.join(dir, 'data'), '--port', String(port)];
}

/** The chaos type's pool minimum: the workers left once drained. */
const POOL_MIN = 1;

/** `over` with `extra`'s keys added, plain objects merged key by key (a backend's additions). */
function merge(
  extra: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...over };
  for (const [k, v] of Object.entries(extra)) {
    const mine = out[k];
    const both = [v, mine].every((x) => x && typeof x === 'object' && !Array.isArray(x));
    out[k] = both
      ? merge(v as Record<string, unknown>, mine as Record<string, unknown>)
      : (mine ?? v);
  }
  return out;
}

/** The submissions, poison ones spread among the normal ones. */
function plan(jobs: number, poison: number): Submission[] {
  const out: Submission[] = [];
  const every = poison > 0 ? Math.floor(jobs / poison) : Infinity;
  for (let i = 0; i < jobs; i++) {
    out.push({ key: `k${i}`, kind: 'normal', jobId: null });
    if ((i + 1) % every === 0 && out.length < jobs + poison) {
      out.push({ key: `p${i}`, kind: 'poison', jobId: null });
    }
  }
  return out;
}

/**
 * Submits every one, retrying each (same idempotency key) until acknowledged or out of time.
 * Resolves with the refusals met on the way, by "status code" (or "unreachable").
 */
async function submitAll(
  url: string,
  subs: Submission[],
  profile: Profile,
): Promise<Record<string, number>> {
  const refused: Record<string, number> = {};
  let next = 0;
  const start = Date.now();
  const deadline = start + profile.drainMs;
  const lane = async () => {
    while (next < subs.length) {
      const i = next++;
      const sub = subs[i]!;
      await delay(start + (i * profile.submitMs) / subs.length - Date.now()); // the schedule
      const ms = profile.msMin + Math.floor(Math.random() * (profile.msMax - profile.msMin));
      const payload = sub.kind === 'poison' ? { key: sub.key, poison: true } : { key: sub.key, ms };
      while (sub.jobId === null && Date.now() < deadline) {
        const answer = await submitOnce(url, { type: 'chaos', idempotencyKey: sub.key, payload });
        if ('jobId' in answer) sub.jobId = answer.jobId;
        else {
          refused[answer.refusal] = (refused[answer.refusal] ?? 0) + 1;
          await delay(100); // gaffer, its store or its broker is down: retry
        }
      }
    }
  };
  await Promise.all(Array.from({ length: profile.lanes }, lane));
  return refused;
}

async function submitOnce(
  url: string,
  body: unknown,
): Promise<{ jobId: string } | { refusal: string }> {
  try {
    const res = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { job?: { id: string }; error?: { code?: string } };
    if (res.ok && json.job) return { jobId: json.job.id };
    return { refusal: `${res.status} ${json.error?.code ?? 'no code'}` };
  } catch {
    return { refusal: 'unreachable' };
  }
}

async function striking(fault: FaultName, profile: Profile, target: Parameters<typeof strike>[1]) {
  for (let i = 0; i < profile.faults; i++) {
    await delay(profile.faultEveryMs); // the schedule: faults are spaced in time
    await strike(fault, target);
  }
}

/** Resolves once nothing of the type is queued, delayed or running and the pool is at its min. */
async function drained(url: string, profile: Profile): Promise<void> {
  await untilEvent(
    url,
    async () => {
      const { queues } = (await (await fetch(`${url}/v1/queues`)).json()) as {
        queues: {
          type: string;
          ready: number;
          delayed: number;
          inFlight: number;
          workers: Record<string, number>;
          min: number;
        }[];
      };
      const q = queues.find((x) => x.type === 'chaos')!;
      const workers = Object.values(q.workers).reduce((a, b) => a + b, 0);
      log(
        `drain: ready ${q.ready}, delayed ${q.delayed}, in flight ${q.inFlight}, workers ${JSON.stringify(q.workers)}`,
      );
      return q.ready + q.delayed + q.inFlight === 0 && workers <= q.min;
    },
    profile.drainMs,
  );
}

/**
 * The broker's count of the queue's messages once it reaches 0, or what is left after the
 * visibility timeout and a margin: a dead worker's deliveries stay pending until a live consumer
 * reclaims them and acks them (their jobs are terminal). On Kubernetes, the pool's pods beyond its
 * minimum: gaffer removes its drained workers' pods one at a time, after the drain. The server has
 * no event for this, so it is asked, at most every 200 ms, for a bounded time.
 */
async function brokerSettled(backend: Backend, queue: string, profile: Profile): Promise<number> {
  const deadline = Date.now() + (backend.settleMs ?? profile.ttlMs + 10_000);
  for (;;) {
    const n = await backend.messages(queue, POOL_MIN);
    if (n === 0 || Date.now() > deadline) return n;
    await delay(200);
  }
}

function mountSmall(dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir]);
}
