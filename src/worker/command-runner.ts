import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FailureClass, Outcome } from '../domain/job.ts';
import type { Assignment, WorkerSpec } from './protocol.ts';
import { trackGroup, untrackGroup } from './job-groups.ts';
import { failed, type JobControl, type JobRunner } from './runtime.ts';

/**
 * Runs a job as a command, so workers can be written in any language.
 *
 * Contract with the command: argv `spec.command` (no shell), in its own process group, with the
 * environment plus GAFFER_JOB_ID, GAFFER_JOB_TYPE, GAFFER_ATTEMPT, GAFFER_PAYLOAD_FILE and
 * GAFFER_RESULT_FILE (and, for a job with data references, GAFFER_INPUT_DIR and GAFFER_OUTPUT_DIR:
 * see staged-runner.ts). The payload JSON is on stdin and in the payload file. The result is the
 * result file's JSON (or text) if the command wrote it; else the last non-empty stdout line if it
 * is JSON; else all of stdout, trimmed (null if empty). Exit 0 succeeds. Exit 75 (EX_TEMPFAIL)
 * with a result `{"gaffer":{"snoozeMs":N}}` snoozes the job for N ms (its attempt not spent), with
 * `{"gaffer":{"retryAfterMs":N}}` fails the attempt and retries after N ms; exit 75 without either
 * is an ordinary failure. When the command exits, whatever it left running in its process group is
 * killed: a job's processes end with the job.
 */

/** The exit code (sysexits' EX_TEMPFAIL) with which a command's result may choose its delay. */
export const TEMPFAIL_EXIT = 75;

/** Largest `log` message; longer lines are split. */
export const MAX_LOG_CHUNK = 64 * 1024;
/** Largest text result (stdout or a non-JSON result file); the tail is kept. */
export const MAX_TEXT_RESULT = 1024 * 1024;
/** How much of stderr goes into a failure message. */
const STDERR_IN_MESSAGE = 500;
/** Signals that mean the program crashed by itself (its bug), not that something killed it. */
const CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGABRT', 'SIGSYS']);

export function createCommandRunner(spec: WorkerSpec): JobRunner {
  return { inProcess: false, run: (job, control) => runCommand(spec, job, control) };
}

interface Files {
  dir: string;
  payload: string;
  result: string;
}

async function runCommand(
  spec: WorkerSpec,
  job: Assignment,
  control: JobControl,
): Promise<Outcome> {
  if (!spec.command?.length) return failed('application', `job type ${spec.type} has no command`);
  const dir = join(spec.scratchDir, `${job.id.replace(/[^\w.-]/g, '_')}-${job.attempt}`);
  const files: Files = {
    dir,
    payload: join(dir, 'payload.json'),
    result: join(dir, 'result.json'),
  };
  const payload = JSON.stringify(job.payload ?? null);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(files.payload, payload);
    const exit = await spawnJob(spec, spec.command, job, control, files, payload);
    return await toOutcome(exit, files.result);
  } catch (err) {
    return failed('infrastructure', `running ${spec.command[0]} failed: ${String(err)}`);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** We sent the kill (timeout, cancel, shutdown). */
  killed: boolean;
  spawnError: Error | null;
  stdout: string;
  stderr: string;
}

function spawnJob(
  spec: WorkerSpec,
  [file, ...args]: string[],
  job: Assignment,
  control: JobControl,
  files: Files,
  payload: string,
): Promise<Exit> {
  const env = {
    ...process.env,
    ...spec.env,
    GAFFER_JOB_ID: job.id,
    GAFFER_JOB_TYPE: job.type,
    GAFFER_ATTEMPT: String(job.attempt),
    GAFFER_PAYLOAD_FILE: files.payload,
    GAFFER_RESULT_FILE: files.result,
    ...(control.dirs
      ? { GAFFER_INPUT_DIR: control.dirs.input, GAFFER_OUTPUT_DIR: control.dirs.output }
      : {}),
  };
  // detached: the command leads its own process group, so `kill(-pid)` reaches its whole tree.
  const child = spawn(file ?? '', args, { cwd: spec.cwd, env, detached: true, stdio: 'pipe' });
  trackGroup(child.pid);
  const killGroup = (sig: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  const out = new LogPump('stdout', control);
  const err = new LogPump('stderr', control);
  child.stdout.setEncoding('utf8').on('data', (s: string) => out.push(s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => err.push(s));
  child.stdin.on('error', () => {}); // EPIPE: the command does not read its stdin
  child.stdin.end(payload);

  let killed = false;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = (): void => {
    killed = true;
    killGroup('SIGTERM');
    graceTimer = setTimeout(() => killGroup('SIGKILL'), spec.killGraceMs);
  };
  if (control.signal.aborted) onAbort();
  else control.signal.addEventListener('abort', onAbort, { once: true });

  let spawnError: Error | null = null;
  child.on('error', (e) => (spawnError = e));
  // The leader is gone: end what it left in its group, or it could hold stdout open forever.
  child.on('exit', () => killGroup('SIGKILL'));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      untrackGroup(child.pid);
      clearTimeout(graceTimer);
      control.signal.removeEventListener('abort', onAbort);
      out.flush();
      err.flush();
      resolve({ code, signal, killed, spawnError, stdout: out.tail, stderr: err.tail });
    });
  });
}

async function toOutcome(exit: Exit, resultFile: string): Promise<Outcome> {
  if (exit.spawnError) {
    return failed('application', `cannot start command: ${exit.spawnError.message}`);
  }
  if (exit.code === 0) return { status: 'succeeded', result: await readResult(exit, resultFile) };
  const cls = failureClass(exit);
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const stderr = exit.stderr.trim().slice(-STDERR_IN_MESSAGE);
  const delay = exit.code === TEMPFAIL_EXIT ? delayAsked(await readResult(exit, resultFile)) : {};
  if (delay.snoozeMs !== undefined) return { status: 'snoozed', delayMs: delay.snoozeMs };
  return {
    status: 'failed',
    error: {
      class: cls,
      message: `command ${how}${stderr ? `: ${stderr}` : ''}`,
      exitCode: exit.code,
      signal: exit.signal,
      ...(delay.retryAfterMs !== undefined ? { retryAfterMs: delay.retryAfterMs } : {}),
    },
  };
}

/**
 * The delay a command's result asks for: `{"gaffer":{"snoozeMs":N}}` or
 * `{"gaffer":{"retryAfterMs":N}}` (gaffer checks N's bounds). Anything else asks for none.
 */
function delayAsked(result: unknown): { snoozeMs?: number; retryAfterMs?: number } {
  const asked: unknown =
    typeof result === 'object' && result !== null ? Reflect.get(result, 'gaffer') : undefined;
  if (typeof asked !== 'object' || asked === null) return {};
  const { snoozeMs, retryAfterMs } = asked as Record<string, unknown>;
  if (snoozeMs !== undefined) return { snoozeMs: snoozeMs as number };
  if (retryAfterMs !== undefined) return { retryAfterMs: retryAfterMs as number };
  return {};
}

/**
 * Kept simple on purpose: exit code 137 (128 + SIGKILL, how shells and container runtimes report a
 * child killed by the kernel's OOM killer) that we did not cause is 'oom'; a SIGKILL or other
 * outside signal we did not send is 'infrastructure' (the machine, not the job); a crash signal or
 * any other non-zero exit is the job's own failure, 'application'. When we sent the kill, the
 * runtime replaces this with 'timeout' or 'cancelled' anyway.
 */
function failureClass(exit: Exit): FailureClass {
  if (exit.code === 137 && !exit.killed) return 'oom';
  if (exit.signal && !CRASH_SIGNALS.has(exit.signal)) return 'infrastructure';
  return 'application';
}

async function readResult(exit: Exit, resultFile: string): Promise<unknown> {
  const text = await readFile(resultFile, 'utf8').catch(() => null);
  if (text !== null) return parseOr(text, () => capText(text));
  if (exit.stdout.trim() === '') return null;
  const lines = exit.stdout.trimEnd().split('\n');
  const last = lines[lines.length - 1]?.trim() ?? '';
  return parseOr(last, () => capText(exit.stdout.trim()));
}

function parseOr(text: string, fallback: () => unknown): unknown {
  if (text.trim() === '') return fallback();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback();
  }
}

function capText(text: string): string {
  return text.length > MAX_TEXT_RESULT ? text.slice(-MAX_TEXT_RESULT) : text;
}

/**
 * Turns a stream into `log` messages that end at line boundaries (a line longer than
 * MAX_LOG_CHUNK is split), and keeps the stream's tail for the result and error message.
 */
class LogPump {
  readonly #stream: 'stdout' | 'stderr';
  readonly #control: JobControl;
  #partial = '';
  #tail = '';

  constructor(stream: 'stdout' | 'stderr', control: JobControl) {
    this.#stream = stream;
    this.#control = control;
  }

  get tail(): string {
    return capText(this.#tail);
  }

  push(chunk: string): void {
    this.#tail += chunk;
    if (this.#tail.length > 2 * MAX_TEXT_RESULT) this.#tail = this.#tail.slice(-MAX_TEXT_RESULT);
    const text = this.#partial + chunk;
    const end = text.lastIndexOf('\n') + 1;
    this.#partial = text.slice(end);
    this.#emit(text.slice(0, end));
    while (this.#partial.length >= MAX_LOG_CHUNK) {
      this.#emit(this.#partial.slice(0, MAX_LOG_CHUNK));
      this.#partial = this.#partial.slice(MAX_LOG_CHUNK);
    }
  }

  flush(): void {
    this.#emit(this.#partial);
    this.#partial = '';
  }

  #emit(text: string): void {
    while (text.length > MAX_LOG_CHUNK) {
      const cut = text.lastIndexOf('\n', MAX_LOG_CHUNK - 1) + 1 || MAX_LOG_CHUNK;
      this.#control.log(this.#stream, text.slice(0, cut));
      text = text.slice(cut);
    }
    if (text) this.#control.log(this.#stream, text);
  }
}
