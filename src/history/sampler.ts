import type { TimedClock, Timer } from '../domain/clock.ts';
import type { GafferEvents } from '../domain/events.ts';
import type { Logger } from '../domain/logger.ts';
import { Ring } from './ring.ts';

/** Workers of one type by state at one moment. */
export interface WorkerCounts {
  starting: number;
  idle: number;
  busy: number;
  draining: number;
}

/** One type at one moment: what the dashboard's charts draw. */
export interface TypeSample {
  ready: number;
  inFlight: number;
  /** Jobs that ended succeeded, per minute, over the interval before this sample. */
  finishedPerMin: number;
  /** Jobs that ended failed (failed, timed out, dead-lettered), per minute, over the same interval. */
  failedPerMin: number;
  workers: WorkerCounts;
}

export interface Sample {
  /** Store-clock ms (the orchestrator's clock). */
  at: number;
  types: Record<string, TypeSample>;
}

/** What a sample reads: per type, the backlog and the workers by state, at `now`. */
export type ReadState = (
  now: number,
) => Promise<Record<string, { ready: number; inFlight: number; workers: WorkerCounts }>>;

export interface SamplerOptions {
  /** Times the samples and says when to take them. */
  clock: TimedClock;
  events: GafferEvents;
  read: ReadState;
  /** Default 5 s. */
  intervalMs?: number;
  /** How much history to keep; default 1 h. */
  keepMs?: number;
  log: Pick<Logger, 'error'>;
}

/**
 * Samples queue depth, throughput and workers per type every `intervalMs` into a ring holding
 * `keepMs` of history, in memory: the dashboard's charts survive a page reload (not a gaffer
 * restart). Throughput is counted from job events between samples, so no sample needs a query
 * over ended jobs. Times and the sampling timer come from the injected clock.
 */
export class HistorySampler {
  readonly intervalMs: number;
  readonly #clock: TimedClock;
  readonly #read: ReadState;
  readonly #log: Pick<Logger, 'error'>;
  readonly #ring: Ring<Sample>;
  readonly #ended = new Map<string, { finished: number; failed: number }>();
  readonly #offs: (() => void)[] = [];
  #lastAt: number;
  #timer: Timer | null = null;
  #running: Promise<void> | null = null;

  constructor(options: SamplerOptions) {
    this.intervalMs = options.intervalMs ?? 5000;
    const keepMs = options.keepMs ?? 3_600_000;
    this.#clock = options.clock;
    this.#read = options.read;
    this.#log = options.log;
    this.#ring = new Ring(Math.max(1, Math.ceil(keepMs / this.intervalMs)));
    this.#lastAt = this.#clock.now();
    const count = (type: string, key: 'finished' | 'failed') => {
      const c = this.#ended.get(type) ?? { finished: 0, failed: 0 };
      c[key]++;
      this.#ended.set(type, c);
    };
    this.#offs.push(
      options.events.on('job:succeeded', ({ job }) => count(job.type, 'finished')),
      options.events.on('job:failed', ({ job }) => count(job.type, 'failed')),
    );
  }

  /** Starts sampling every `intervalMs` (one sample at once). */
  start(): void {
    if (this.#timer) return;
    this.#timer = this.#clock.every(this.intervalMs, () => void this.sample());
    void this.sample();
  }

  /** Stops the timer and the event counting; the history stays readable. */
  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = null;
    for (const off of this.#offs.splice(0)) off();
    await this.#running;
  }

  /** Takes one sample now (the timer calls it; tests call it after moving a manual clock). */
  sample(): Promise<void> {
    this.#running ??= this.#take()
      .catch((err: unknown) => this.#log.error({ err }, 'history sample failed'))
      .finally(() => (this.#running = null));
    return this.#running;
  }

  /** Samples taken at or after `since` (store-clock ms), oldest first. */
  since(since = 0): Sample[] {
    return this.#ring.toArray().filter((s) => s.at >= since);
  }

  async #take(): Promise<void> {
    const now = this.#clock.now();
    const state = await this.#read(now);
    const minutes = Math.max(now - this.#lastAt, 1) / 60_000;
    const types: Sample['types'] = {};
    for (const name of new Set([...Object.keys(state), ...this.#ended.keys()])) {
      const s = state[name] ?? { ready: 0, inFlight: 0, workers: emptyWorkers() };
      const e = this.#ended.get(name) ?? { finished: 0, failed: 0 };
      types[name] = {
        ...s,
        finishedPerMin: round(e.finished / minutes),
        failedPerMin: round(e.failed / minutes),
      };
    }
    this.#ended.clear();
    this.#lastAt = now;
    this.#ring.push({ at: now, types });
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

export function emptyWorkers(): WorkerCounts {
  return { starting: 0, idle: 0, busy: 0, draining: 0 };
}
