import { spawn, type ChildProcess } from 'node:child_process';
import { trackGroup, untrackGroup } from './job-groups.ts';
import type { Outcome } from '../domain/job.ts';
import type { DataDirs } from '../storage/object-store.ts';
import type { Assignment } from './protocol.ts';
import type { JobControl } from './runtime.ts';
import { moduleFile } from '../paths.ts';

/**
 * Runs one handler job in a child Node process of its own (a sandbox, like BullMQ's sandboxed
 * processors), so a job that kills its process — `process.kill(process.pid, 'SIGKILL')`, a native
 * crash, running out of memory — takes down only that child, not the pool worker and the jobs
 * beside it. Pool workers use it for suspects only (assignments marked `isolate`: jobs whose last
 * attempt ended with their process dying); every other handler job stays in-process, on the hot
 * path.
 *
 * Contract:
 * - The child (src/worker/sandbox.ts) is `process.execPath` with the worker's environment and
 *   working directory, in a process group of its own. It loads the same handler (`loadHandler`)
 *   and runs the job with the same JobContext: `ctx.log` lines become the job's log, stdout is the
 *   worker's, stderr too (its tail also goes into a crash's message).
 * - An abort before the child is ready cancels the job: the handler is never sent, the child is
 *   killed, the outcome is `cancelled` (the worker reports the stop's own outcome).
 * - An abort (timeout, cancel, shutdown) is passed on as the child's `ctx.signal`; a child that
 *   has not exited `killGraceMs` later is SIGKILLed with its whole group. Unlike an in-process
 *   handler that ignores its abort, this never makes the worker exit. Whatever the child left in
 *   its group is killed when it exits: a job's processes end with the job.
 * - A child that exits without reporting an outcome fails the attempt as 'infrastructure', with
 *   its exit code and signal, and `workerLost: true`: the job stays a suspect, so its next
 *   attempt is sandboxed too. A child that cannot be started fails it the same way (the attempt
 *   never ran).
 * - The child exits when its IPC channel closes, so it does not outlive a worker that died.
 * - Never rejects.
 */

export interface SandboxOptions {
  /** The type's handler reference, as `loadHandler` takes it. */
  handler: string;
  /** What a relative handler path is resolved against in the child. */
  cwd: string;
  /** How long an aborted child gets before SIGKILL. */
  killGraceMs: number;
}

/** Worker → sandbox. `run` answers the child's `ready`; `abort` becomes the handler's signal. */
export type ToSandbox =
  | { t: 'run'; handler: string; cwd: string; job: Assignment; dirs?: DataDirs }
  | { t: 'abort'; reason: string };

/** Sandbox → worker. `ready`: listening, send `run`. One `outcome`, then the child exits. */
export type FromSandbox =
  | { t: 'ready' }
  | { t: 'log'; stream: 'stdout' | 'stderr'; data: string }
  | { t: 'outcome'; outcome: Outcome };

const ENTRY = moduleFile('worker/sandbox');
/** How much of the child's stderr goes into a crash's message. */
const STDERR_IN_MESSAGE = 500;

export function runSandboxed(
  options: SandboxOptions,
  job: Assignment,
  control: JobControl,
): Promise<Outcome> {
  // detached: the child leads its own group, so a kill reaches whatever the handler started, and
  // a SIGTERM to the worker's group (a drain) does not reach the child.
  const child = spawn(process.execPath, [ENTRY], {
    env: process.env,
    detached: true,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  trackGroup(child.pid);
  return new Promise((resolve) => new Sandbox(options, job, control, child, resolve).watch());
}

/** One child, from spawn to close. */
class Sandbox {
  readonly #o: SandboxOptions;
  readonly #job: Assignment;
  readonly #control: JobControl;
  readonly #child: ChildProcess;
  readonly #resolve: (outcome: Outcome) => void;
  #outcome: Outcome | null = null;
  #spawnError: Error | null = null;
  #stderr = '';
  /** The child listens: messages sent before would be lost. */
  #ready = false;
  #abortReason: string | null = null;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #onAbort = (): void => this.#abort();

  constructor(
    options: SandboxOptions,
    job: Assignment,
    control: JobControl,
    child: ChildProcess,
    resolve: (outcome: Outcome) => void,
  ) {
    this.#o = options;
    this.#job = job;
    this.#control = control;
    this.#child = child;
    this.#resolve = resolve;
  }

  watch(): void {
    const child = this.#child;
    child.on('error', (err) => (this.#spawnError ??= err));
    child.on('message', (msg: FromSandbox) => this.#onMessage(msg));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => this.#onStderr(s));
    // The leader is gone: end what it left in its group, or it could hold stderr open forever.
    child.on('exit', () => this.#killGroup());
    child.on('close', (code, signal) => this.#closed(code, signal));
    if (this.#control.signal.aborted) this.#abort();
    else this.#control.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  #onMessage(msg: FromSandbox): void {
    switch (msg.t) {
      case 'ready':
        this.#ready = true;
        // Stopped before its sandbox was up: the handler is never sent, so it cannot race the
        // abort (two messages, and a handler that loads before the second is read would run).
        if (this.#abortReason !== null) {
          this.#outcome ??= { status: 'cancelled' };
          return this.#killGroup();
        }
        this.#send(this.#runMessage());
        return;
      case 'log':
        return this.#control.log(msg.stream, msg.data);
      case 'outcome':
        this.#outcome ??= msg.outcome;
        return;
    }
  }

  #runMessage(): ToSandbox {
    const { handler, cwd } = this.#o;
    const dirs = this.#control.dirs;
    return { t: 'run', handler, cwd, job: this.#job, ...(dirs ? { dirs } : {}) };
  }

  #onStderr(text: string): void {
    process.stderr.write(text);
    this.#stderr = (this.#stderr + text).slice(-STDERR_IN_MESSAGE);
  }

  /** The handler sees the abort (once it runs); the child gets the kill grace to settle and exit. */
  #abort(): void {
    if (this.#abortReason !== null) return;
    const reason = this.#control.signal.reason as unknown;
    this.#abortReason = reason instanceof Error ? reason.message : String(reason);
    if (this.#ready) this.#send({ t: 'abort', reason: this.#abortReason });
    this.#graceTimer = setTimeout(() => this.#killGroup(), this.#o.killGraceMs);
  }

  #send(msg: ToSandbox): void {
    if (!this.#child.connected) return;
    // A send can fail only because the child is dying; its close reports that.
    this.#child.send(msg, (err) => void err);
  }

  #killGroup(): void {
    if (this.#child.pid === undefined) return;
    try {
      process.kill(-this.#child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  #closed(code: number | null, signal: NodeJS.Signals | null): void {
    untrackGroup(this.#child.pid);
    clearTimeout(this.#graceTimer);
    this.#control.signal.removeEventListener('abort', this.#onAbort);
    this.#resolve(this.#outcome ?? this.#lost(code, signal));
  }

  /** The child ended without an outcome: it crashed, was killed, or never started. */
  #lost(code: number | null, signal: NodeJS.Signals | null): Outcome {
    const how = this.#spawnError
      ? `could not start: ${this.#spawnError.message}`
      : signal
        ? `was killed by ${signal}`
        : `exited with code ${code}`;
    const stderr = this.#stderr.trim();
    return {
      status: 'failed',
      error: {
        class: 'infrastructure',
        message: `sandboxed handler process ${how}${stderr ? `: ${stderr}` : ''}`,
        exitCode: code,
        signal,
        workerLost: true,
      },
    };
  }
}
