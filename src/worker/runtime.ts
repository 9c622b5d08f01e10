import type { JobError, Outcome } from '../domain/job.ts';
import type { DataDirs } from '../storage/object-store.ts';
import type { Assignment, GafferMessage, WorkerMessage, WorkerSpec } from './protocol.ts';

/**
 * The worker loop: claims jobs, runs them, heartbeats their leases and reports how they ended. It
 * knows nothing of processes or IPC (main.ts wires those), so it runs the same over a local
 * channel, the network, or an in-memory link in tests.
 */

/** The worker's end of its link to gaffer. */
export interface WorkerLink {
  send(msg: WorkerMessage): void;
  onMessage(fn: (msg: GafferMessage) => void): void;
}

/** What a runner gets for one job: a way to be stopped and a way to log. */
export interface JobControl {
  /** Aborted on timeout, cancel or shutdown; the runner must then stop the job. */
  readonly signal: AbortSignal;
  /** Raw stream text; callers send whole lines where they can. */
  log(stream: 'stdout' | 'stderr', data: string): void;
  /** Set for a job with data references: its staged inputs and its output directory. */
  readonly dirs?: DataDirs;
}

/** Runs one job to an outcome. Must not reject (a rejection is reported as 'infrastructure'). */
export interface JobRunner {
  /**
   * True when the job is code in this process: it can only be asked to stop (its signal), so a
   * runner that ignores the abort gets `killGraceMs`, then the worker exits. False for process
   * trees, which the runner kills itself (SIGTERM, then SIGKILL), so it always settles.
   * Whatever this says, an assignment marked `isolate` never runs in this process: a runner
   * runs it in a process it kills itself (src/worker/sandbox-runner.ts), so it always settles.
   */
  readonly inProcess: boolean;
  run(job: Assignment, control: JobControl): Promise<Outcome>;
}

export interface RuntimeOptions {
  workerId: string;
  spec: WorkerSpec;
  /** Per-job mode: the job this worker was started for (sent in `hello`). */
  jobId?: string;
  link: WorkerLink;
  runner: JobRunner;
  /** Ends the worker: main.ts flushes the link and exits the process; tests record the code. */
  exit(code: number): void;
}

/** Exit code when an in-process handler ignored its abort (EX_SOFTWARE); gaffer restarts us. */
export const EXIT_STUCK_HANDLER = 70;

/** setTimeout's ceiling (2^31 - 1 ms); a longer timeout would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

type StopReason = 'timeout' | 'cancel' | 'shutdown';

/** One job in flight. It is the job's JobControl, so the hot path allocates one object per job. */
class Slot implements JobControl {
  readonly job: Assignment;
  readonly #send: (msg: WorkerMessage) => void;
  /** The job's timeout; once an in-process job is stopped, the watchdog for ignoring that. */
  timer: ReturnType<typeof setTimeout> | undefined;
  reason: StopReason | null = null;
  settled = false;
  /** Made on first use: most handlers never look at their signal, and aborting is rare. */
  #controller: AbortController | null = null;

  constructor(job: Assignment, send: (msg: WorkerMessage) => void) {
    this.job = job;
    this.#send = send;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.reason) this.#controller.abort(this.#abortReason());
    }
    return this.#controller.signal;
  }

  /** Returns false when the job was already being stopped (the first reason wins). */
  stop(reason: StopReason): boolean {
    if (this.reason || this.settled) return false;
    this.reason = reason;
    this.#controller?.abort(this.#abortReason());
    return true;
  }

  log(stream: 'stdout' | 'stderr', data: string): void {
    if (this.settled) return;
    const { id, token } = this.job;
    this.#send({ t: 'log', id, token, stream, data });
  }

  #abortReason(): Error {
    return new Error(`job ${this.job.id} stopped: ${this.reason}`);
  }
}

export class WorkerRuntime {
  readonly #o: RuntimeOptions;
  readonly #perJob: boolean;
  readonly #slots = new Map<string, Slot>();
  /** A claim was sent and its `jobs` reply has not come (gaffer long-polls it). */
  #claiming = false;
  /** A claim check is scheduled: coalesces the jobs finishing in one turn into one claim. */
  #claimQueued = false;
  #draining = false;
  /** Stopping now (`stop`): no job starts any more, and those stopped are not reported. */
  #stopping = false;
  /** gaffer is gone: nothing more is sent. */
  #linkGone = false;
  #exited = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #sendFn = (msg: WorkerMessage): void => this.#send(msg);

  constructor(options: RuntimeOptions) {
    this.#o = options;
    this.#perJob = options.spec.mode === 'per-job';
    options.link.onMessage((msg) => this.#onMessage(msg));
  }

  /** Jobs in flight. */
  get active(): number {
    return this.#slots.size;
  }

  start(): void {
    const { workerId, spec, jobId } = this.#o;
    const hello: WorkerMessage = {
      t: 'hello',
      workerId,
      type: spec.type,
      pid: process.pid,
      concurrency: spec.concurrency,
    };
    if (jobId) hello.jobId = jobId;
    this.#send(hello);
    this.#heartbeat = setInterval(() => this.#beat(), spec.heartbeatMs);
    this.#scheduleClaim();
  }

  /** Take nothing new, finish what is in flight, then exit 0 (a `drain` message, or SIGTERM). */
  drain(): void {
    this.#draining = true;
    this.#maybeExit();
  }

  /**
   * gaffer is stopping (it signals the worker: SIGINT): stop every job now — a process tree gets
   * SIGTERM, then SIGKILL after killGraceMs — then exit 0 once all have settled. Those jobs are
   * not reported: gaffer hands each back to the queue as interrupted by its stop when this
   * worker exits (a job that ended before the stop is reported as usual). No job starts after.
   */
  stop(): void {
    this.#stopping = true;
    this.#draining = true;
    for (const slot of this.#slots.values()) this.#stop(slot, 'shutdown');
    this.#maybeExit();
  }

  /** gaffer is gone: stop every job (killing process trees), then exit once all have settled. */
  shutdown(): void {
    this.#linkGone = true;
    this.#draining = true;
    for (const slot of this.#slots.values()) this.#stop(slot, 'shutdown');
    this.#maybeExit();
  }

  #onMessage(msg: GafferMessage): void {
    if (this.#exited) return;
    switch (msg.t) {
      case 'jobs':
        this.#claiming = false;
        // Jobs that arrive while draining were leased to us before gaffer saw the drain: run them.
        for (const job of msg.jobs) this.#run(job);
        this.#scheduleClaim();
        return;
      case 'cancel': {
        const slot = this.#slots.get(msg.id);
        if (slot) this.#stop(slot, 'cancel');
        return;
      }
      case 'drain':
        this.drain();
        return;
      default:
        // Broker-mode answers (refused) are for the broker feed, not the loop.
        return;
    }
  }

  #run(job: Assignment): void {
    // Stopping: a job leased meanwhile is not started; gaffer hands it back when we exit.
    if (this.#linkGone || this.#stopping || this.#slots.has(job.id)) return;
    const slot = new Slot(job, this.#sendFn);
    this.#slots.set(job.id, slot);
    if (this.#perJob) this.#send({ t: 'started', id: job.id, token: job.token });
    if (job.timeoutMs > 0) {
      slot.timer = setTimeout(
        () => this.#stop(slot, 'timeout'),
        Math.min(job.timeoutMs, MAX_TIMER_MS),
      );
    }
    let running: Promise<Outcome>;
    try {
      running = this.#o.runner.run(job, slot);
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (outcome) => this.#finish(slot, outcome),
      (err: unknown) =>
        this.#finish(slot, failed('infrastructure', `runner crashed: ${String(err)}`)),
    );
  }

  #stop(slot: Slot, reason: StopReason): void {
    if (!slot.stop(reason) || !this.#o.runner.inProcess || slot.job.isolate) return;
    // The job's timer now watches for a handler that ignores the abort.
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => this.#stuck(slot), this.#o.spec.killGraceMs);
  }

  /** An in-process handler ignored its abort for killGraceMs. */
  #stuck(slot: Slot): void {
    if (slot.settled) return;
    this.#finish(slot, { status: 'cancelled' }); // replaced by the stop reason's outcome
    // The handler's code is still running in this process and JavaScript cannot stop it, so it
    // could keep doing the job's side effects after we reported it stopped. Exiting is the only
    // way to end it; gaffer sees the exit, retries our other in-flight jobs and starts a new worker.
    this.#exit(EXIT_STUCK_HANDLER);
  }

  #finish(slot: Slot, outcome: Outcome): void {
    if (slot.settled) return;
    slot.settled = true;
    clearTimeout(slot.timer);
    this.#slots.delete(slot.job.id);
    const { id, token, timeoutMs } = slot.job;
    if (slot.reason === 'timeout') {
      outcome = failed('timeout', `timed out after ${timeoutMs} ms`);
    } else if (slot.reason) {
      outcome = { status: 'cancelled' };
    }
    // Stopped by gaffer's stop (or gaffer is gone): not a cancel; gaffer hands the job back.
    if (slot.reason !== 'shutdown') this.#send({ t: 'done', id, token, outcome });
    if (this.#perJob) this.#draining = true; // one job, then exit
    this.#scheduleClaim();
    this.#maybeExit();
  }

  #scheduleClaim(): void {
    if (this.#claimQueued || this.#perJob) return;
    this.#claimQueued = true;
    // Deferred to the end of this turn: jobs that finish together (e.g. a batch of quick
    // handlers) are replaced by one claim for all their slots, not one claim each.
    setImmediate(() => {
      this.#claimQueued = false;
      this.#claim();
    });
  }

  #claim(): void {
    const free = this.#o.spec.concurrency - this.#slots.size;
    if (this.#claiming || this.#draining || this.#exited || free <= 0) return;
    this.#claiming = true;
    this.#send({ t: 'claim', max: free });
  }

  /** One message per interval with every lease held; nothing while idle. */
  #beat(): void {
    if (this.#slots.size === 0) return;
    const leases: { id: string; token: number }[] = [];
    for (const { job } of this.#slots.values()) leases.push({ id: job.id, token: job.token });
    this.#send({ t: 'heartbeat', leases });
  }

  #maybeExit(): void {
    if (this.#draining && this.#slots.size === 0) this.#exit(0);
  }

  #exit(code: number): void {
    if (this.#exited) return;
    this.#exited = true;
    clearInterval(this.#heartbeat);
    for (const slot of this.#slots.values()) clearTimeout(slot.timer);
    this.#o.exit(code);
  }

  #send(msg: WorkerMessage): void {
    if (!this.#linkGone && !this.#exited) this.#o.link.send(msg);
  }
}

export function failed(errorClass: JobError['class'], message: string): Outcome {
  return { status: 'failed', error: { class: errorClass, message } };
}
