import type { GafferEventName, GafferEvents } from '../../domain/events.ts';
import { isTerminal, type Job } from '../../domain/job.ts';

/** The events after which a job's state may have changed. */
const STATE_EVENTS = [
  'job:queued',
  'job:started',
  'job:succeeded',
  'job:retrying',
  'job:failed',
  'job:cancelled',
  'job:expired',
] as const satisfies readonly GafferEventName[];

export interface WatchDeps {
  events: GafferEvents;
  /** The job as the store has it now; throws GAFFER_JOB_NOT_FOUND. */
  get(id: string): Promise<Job>;
}

/**
 * Calls `send` with the job as it is now, then each time its state, attempt, replays or cancel
 * flag changed, and resolves after sending a terminal state, or when `signal` aborts. Rejects with
 * what `get` or `check` threw (`check` sees every read, e.g. the caller's type scope).
 *
 * The job is re-read after each event that names it rather than taken from the event: reads are
 * sequential, so messages follow the store's order even when an event and the first read race; a
 * change over before the read is coalesced into the newer state.
 */
export async function watchJob(
  deps: WatchDeps,
  id: string,
  send: (job: Job) => void,
  signal: AbortSignal,
  check: (job: Job) => void = () => {},
): Promise<void> {
  const wake = new Wakeup();
  const offs = STATE_EVENTS.map((name) =>
    deps.events.on(name, (payload) => {
      const jobs = 'jobs' in payload ? payload.jobs : [payload.job];
      if (jobs.some((j) => j.id === id)) wake.set();
    }),
  );
  const onAbort = () => wake.set();
  signal.addEventListener('abort', onAbort);
  try {
    let last = '';
    while (!signal.aborted) {
      const job = await deps.get(id);
      check(job);
      const key = `${job.state}/${job.attempt}/${job.replays}/${job.cancelRequested}`;
      if (key !== last && !signal.aborted) send(job);
      last = key;
      if (isTerminal(job.state)) return;
      await wake.wait();
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    for (const off of offs) off();
  }
}

/**
 * A level-triggered wake-up: `set` before or during `wait` makes the next `wait` resolve, however
 * many times it was set. Hand-written: an EventEmitter's once() would lose a set that comes
 * while the watcher is reading the store.
 */
class Wakeup {
  #set = false;
  #waiter: (() => void) | null = null;
  set(): void {
    this.#set = true;
    this.#waiter?.();
    this.#waiter = null;
  }
  async wait(): Promise<void> {
    if (!this.#set) await new Promise<void>((resolve) => (this.#waiter = resolve));
    this.#set = false;
  }
}
