import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Outcome } from '../domain/job.ts';
import type { JobContext, JobHandler } from './handler.ts';
import type { Assignment } from './protocol.ts';
import { failed, type JobControl, type JobRunner } from './runtime.ts';
import { runSandboxed, type SandboxOptions } from './sandbox-runner.ts';

/**
 * Runs jobs with an in-process handler (src/worker/handler.ts). The module is imported once, when
 * the worker starts. This is the hot path of pool workers (thousands of jobs a second): per job it
 * allocates one context and one promise, and does no I/O and no timers of its own.
 *
 * The exception is a suspect, an assignment marked `isolate` (its last attempt ended with its
 * process dying): it runs in a sandbox process of its own (sandbox-runner.ts), so if it crashes
 * the worker again it takes nothing else down.
 */

/** The kill grace of a sandbox when the caller names none (the config's default). */
const DEFAULT_KILL_GRACE_MS = 5000;

/** Loads `spec.handler` ("path/to/module.ts" or "path#exportName"), resolved against `cwd`. */
export async function loadHandler(ref: string, cwd: string = process.cwd()): Promise<JobHandler> {
  const hash = ref.lastIndexOf('#');
  const path = hash >= 0 ? ref.slice(0, hash) : ref;
  const name = hash >= 0 ? ref.slice(hash + 1) : 'default';
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const fn = mod[name];
  if (typeof fn !== 'function') {
    throw new Error(`handler ${ref}: export '${name}' of ${file} is not a function`);
  }
  return fn as JobHandler;
}

/**
 * A runner for `ref`. A handler that cannot be loaded fails every job as 'application' with the
 * reason, so the mistake shows on the jobs themselves instead of as a crash-looping worker.
 * `killGraceMs` is how long an aborted sandbox gets before it is killed.
 */
export async function createHandlerRunner(
  ref: string,
  cwd?: string,
  killGraceMs: number = DEFAULT_KILL_GRACE_MS,
): Promise<JobRunner> {
  let handler: JobHandler;
  try {
    handler = await loadHandler(ref, cwd);
  } catch (err) {
    const outcome = failed('application', `cannot load handler: ${errorMessage(err)}`);
    return { inProcess: true, run: () => Promise.resolve(outcome) };
  }
  const sandbox: SandboxOptions = { handler: ref, cwd: cwd ?? process.cwd(), killGraceMs };
  return {
    inProcess: true,
    run: (job, control) =>
      job.isolate ? runSandboxed(sandbox, job, control) : runHandler(handler, job, control),
  };
}

/** Runs one attempt in this process; never rejects. Also the sandbox's way to run its job. */
export function runHandler(
  handler: JobHandler,
  job: Assignment,
  control: JobControl,
): Promise<Outcome> {
  let value: unknown;
  try {
    value = handler(new Context(job, control));
  } catch (err) {
    return Promise.resolve(thrown(err));
  }
  return Promise.resolve(value).then(succeeded, thrown);
}

/**
 * A handler's throw: a snooze when the error has a `snoozeMs` (handler.ts `Snooze`), else an
 * application failure — final when the error says `retryable: false`, retried after its
 * `retryAfterMs` when it has one (`RetryAfter`). gaffer checks the delays' bounds.
 */
function thrown(err: unknown): Outcome {
  const field = (name: string): unknown =>
    typeof err === 'object' && err !== null ? Reflect.get(err, name) : undefined;
  const snoozeMs = field('snoozeMs');
  if (snoozeMs !== undefined) return { status: 'snoozed', delayMs: snoozeMs as number };
  const outcome = failed('application', errorMessage(err));
  if (outcome.status !== 'failed') return outcome;
  if (field('retryable') === false) outcome.error.retryable = false;
  const retryAfterMs = field('retryAfterMs');
  if (retryAfterMs !== undefined) outcome.error.retryAfterMs = retryAfterMs as number;
  return outcome;
}

function succeeded(result: unknown): Outcome {
  return { status: 'succeeded', result: result === undefined ? null : result };
}

class Context implements JobContext {
  readonly id: string;
  readonly type: string;
  readonly payload: unknown;
  readonly attributes: Record<string, unknown>;
  readonly attempt: number;
  readonly inputDir: string | undefined;
  readonly outputDir: string | undefined;
  readonly #control: JobControl;

  constructor(job: Assignment, control: JobControl) {
    this.id = job.id;
    this.type = job.type;
    this.payload = job.payload;
    this.attributes = job.attributes;
    this.attempt = job.attempt;
    this.inputDir = control.dirs?.input;
    this.outputDir = control.dirs?.output;
    this.#control = control;
  }

  /** Delegated, so the abort controller exists only for handlers that look at it. */
  get signal(): AbortSignal {
    return this.#control.signal;
  }

  log(line: string): void {
    this.#control.log('stdout', line.endsWith('\n') ? line : `${line}\n`);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
