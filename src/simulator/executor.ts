import type { WorkerInfo } from '../domain/events.ts';
import { JobQueue, type EventQueue } from './events.ts';
import type { Trace } from './trace.ts';

/**
 * The executor model: queues, workers, capacity. A model of what both gaffer's executors and a
 * Kubernetes Deployment/Job do, reduced to what changes wait and cost:
 *
 * - A started worker first needs a slot of the trace's global `capacity` (absent: unlimited);
 *   without one it is *pending*, like a Pod no node can take yet, and costs nothing. Slots go to
 *   pending workers first come, first served, across types.
 * - Once placed it is *starting* for `startupMs` (process spawn ≈ 0.2 s, pod ≈ 5 s), then ready.
 * - A ready pool worker runs up to `concurrency` jobs at once. Which worker with room a queued job
 *   goes to is the dispatch order: `spread` (a broker's round robin over consumers with room, as
 *   RabbitMQ delivers: the worker that has waited longest for work) spreads load, so no worker is
 *   idle long enough for an idle-based scale-in; `pack` (gaffer's gateway without a broker: it
 *   serves its waiting workers busiest first — fewest free slots, then in the order it started
 *   them — and the first claim takes the job) hands it to that worker, so surplus workers go idle.
 * - A *one-shot* worker (KEDA ScaledJob's Job) takes one job, runs it and exits. Ready before
 *   anything is queued, it blocks on the queue as a consumer would, until a job comes.
 * - drain (gaffer's retire): takes nothing new, stops when its jobs are done.
 * - kill (a ReplicaSet scaling down): stops now; its jobs go back to the head of their queue and
 *   run again from the start (the broker redelivers the unacked message).
 * - terminate (a deleted pod's SIGTERM, then SIGKILL after the grace): takes nothing new, like
 *   drain; whatever it still runs when the grace ends is killed as above. Jobs that end within
 *   the grace are done and count as neither killed nor re-run.
 *
 * Worker-seconds count from placement to stop: what a node (or a CPU) actually spends.
 */
/** Which ready worker with room takes a queued job (see the executor model above). */
export type DispatchOrder = 'spread' | 'pack';

export type SimWorkerState = 'pending' | 'starting' | 'idle' | 'busy' | 'draining' | 'stopped';

export interface SimWorker {
  index: number;
  id: string;
  type: string;
  oneShot: boolean;
  concurrency: number;
  state: SimWorkerState;
  requestedAt: number;
  placedAt: number | null;
  readyAt: number | null;
  stoppedAt: number | null;
  /** Last time it had no job at all (gaffer's idleSince); null while it holds one. */
  idleSince: number | null;
  /** Since when it has had a free slot: the longest-waiting worker gets the next job. */
  freeSince: number;
  /** Jobs held (indices into the trace). */
  jobs: Set<number>;
  /** A one-shot worker has taken its job. */
  spent: boolean;
}

export interface ExecutorStats {
  busyKilled: number;
  jobsRerun: number;
  peakWorkers: number;
}

export class Executor {
  readonly trace: Trace;
  readonly startupMs: number;
  readonly events: EventQueue;
  readonly workers: SimWorker[] = [];
  readonly queues = new Map<string, JobQueue>();
  /** Live (not stopped) workers per type, in start order. */
  readonly live = new Map<string, SimWorker[]>();
  /** Per job: start of its latest run (−1: not started), its end, and a run counter. */
  readonly startAt: Float64Array;
  readonly endAt: Float64Array;
  readonly epoch: Int32Array;
  readonly stats: ExecutorStats = { busyKilled: 0, jobsRerun: 0, peakWorkers: 0 };
  /** Placed workers not stopped (what capacity limits and what costs). */
  placed = 0;
  finished = 0;
  lastFinish = 0;
  readonly #pending: SimWorker[] = [];
  readonly #capacity: number;
  readonly #seq = new Map<string, number>();
  readonly #order: DispatchOrder;

  constructor(
    trace: Trace,
    startupMs: number,
    events: EventQueue,
    order: DispatchOrder = 'spread',
  ) {
    this.trace = trace;
    this.#order = order;
    this.startupMs = startupMs;
    this.events = events;
    this.#capacity = trace.capacity ?? Infinity;
    for (const type of Object.keys(trace.types)) {
      this.queues.set(type, new JobQueue());
      this.live.set(type, []);
    }
    const n = trace.jobs.length;
    this.startAt = new Float64Array(n).fill(-1);
    this.endAt = new Float64Array(n).fill(-1);
    this.epoch = new Int32Array(n);
  }

  queued(type: string): number {
    return this.queues.get(type)!.size;
  }

  inFlight(type: string): number {
    let n = 0;
    for (const w of this.live.get(type)!) n += w.jobs.size;
    return n;
  }

  /** Live workers of `type` as gaffer's WorkerInfo: what the real policy reads. */
  workerInfos(type: string): WorkerInfo[] {
    return this.live.get(type)!.map((w) => ({
      id: w.id,
      type: w.type,
      mode: w.oneShot ? 'per-job' : 'pool',
      state: w.state === 'pending' ? 'starting' : (w.state as WorkerInfo['state']),
      active: w.jobs.size,
      concurrency: w.concurrency,
      startedAt: w.requestedAt,
      idleSince: w.idleSince,
      readyAt: w.readyAt,
      pid: null,
      waitingFor:
        w.state === 'pending' ? { reason: 'capacity', message: 'no room for the worker' } : null,
    }));
  }

  arrive(job: number, now: number): void {
    const type = this.trace.jobs[job]!.type;
    this.queues.get(type)!.push(job);
    this.#dispatch(type, now);
  }

  start(type: string, count: number, now: number, oneShot: boolean): void {
    const concurrency = oneShot ? 1 : this.trace.types[type]!.concurrency;
    for (let i = 0; i < count; i++) {
      const seq = (this.#seq.get(type) ?? 0) + 1;
      this.#seq.set(type, seq);
      const w: SimWorker = {
        index: this.workers.length,
        id: `${type}-${seq}`,
        type,
        oneShot,
        concurrency,
        state: 'pending',
        requestedAt: now,
        placedAt: null,
        readyAt: null,
        stoppedAt: null,
        idleSince: null,
        freeSince: now,
        jobs: new Set(),
        spent: false,
      };
      this.workers.push(w);
      this.live.get(type)!.push(w);
      this.#pending.push(w);
    }
    this.#place(now);
  }

  /** gaffer's retire: nothing new, stop when empty. Unknown or stopped ids are ignored. */
  drain(id: string, now: number): void {
    const w = this.#find(id);
    if (!w || w.state === 'stopped') return;
    if (w.state === 'pending' || w.jobs.size === 0) return this.#stop(w, now);
    w.state = 'draining';
  }

  /** A ReplicaSet's scale-down: stop now, whatever it holds. Returns whether it was busy. */
  kill(id: string, now: number): boolean {
    const w = this.#find(id);
    if (!w || w.state === 'stopped') return false;
    const busy = w.jobs.size > 0;
    if (busy) this.stats.busyKilled++;
    const queue = this.queues.get(w.type)!;
    // Back in arrival order at the head of the queue.
    for (const job of [...w.jobs].sort((a, b) => b - a)) {
      this.epoch[job]!++;
      this.startAt[job] = -1;
      this.stats.jobsRerun++;
      queue.unshift(job);
    }
    w.jobs.clear();
    this.#stop(w, now);
    this.#dispatch(w.type, now);
    return busy;
  }

  /** SIGTERM with `graceMs` to finish: drain now, kill whatever is left at the grace's end. */
  terminate(id: string, now: number, graceMs: number): void {
    const w = this.#find(id);
    if (!w || w.state === 'stopped') return;
    if (w.state === 'pending' || w.state === 'starting' || w.jobs.size === 0) {
      return this.#stop(w, now);
    }
    w.state = 'draining';
    this.events.push(now + graceMs, { kind: 'grace', worker: w.index });
  }

  /** A terminating worker's grace is over: SIGKILL if it has not exited yet. */
  graceOver(index: number, now: number): void {
    const w = this.workers[index]!;
    if (w.state !== 'stopped') this.kill(w.id, now);
  }

  /** A started worker's start-up delay is over. */
  ready(index: number, now: number): void {
    const w = this.workers[index]!;
    if (w.state !== 'starting') return;
    w.readyAt = now;
    w.state = 'idle';
    w.idleSince = now;
    w.freeSince = now;
    this.#dispatch(w.type, now);
  }

  /** A job's run ended (ignored if the job was killed and re-queued since). */
  done(index: number, job: number, epoch: number, now: number): void {
    if (this.epoch[job] !== epoch) return;
    const w = this.workers[index]!;
    w.jobs.delete(job);
    this.endAt[job] = now;
    this.finished++;
    this.lastFinish = now;
    if (w.oneShot || (w.state === 'draining' && w.jobs.size === 0)) return this.#stop(w, now);
    if (w.state === 'draining') return;
    w.freeSince = now;
    if (w.jobs.size === 0) {
      w.state = 'idle';
      w.idleSince = now;
    }
    this.#dispatch(w.type, now);
  }

  #find(id: string): SimWorker | undefined {
    const type = id.slice(0, id.lastIndexOf('-'));
    return this.live.get(type)?.find((w) => w.id === id);
  }

  #place(now: number): void {
    while (this.#pending.length > 0 && this.placed < this.#capacity) {
      const w = this.#pending.shift()!;
      w.state = 'starting';
      w.placedAt = now;
      this.placed++;
      this.stats.peakWorkers = Math.max(this.stats.peakWorkers, this.placed);
      this.events.push(now + this.startupMs, { kind: 'ready', worker: w.index });
    }
  }

  #stop(w: SimWorker, now: number): void {
    if (w.state === 'pending') this.#pending.splice(this.#pending.indexOf(w), 1);
    else if (w.placedAt !== null) this.placed--;
    w.state = 'stopped';
    w.stoppedAt = now;
    const live = this.live.get(w.type)!;
    live.splice(live.indexOf(w), 1);
    this.#place(now);
  }

  /** Median age of the type's jobs in flight at `now`, ms; null when none is. */
  inFlightAgeP50(type: string, now: number): number | null {
    const ages: number[] = [];
    for (const w of this.live.get(type)!) {
      for (const job of w.jobs) ages.push(now - this.startAt[job]!);
    }
    if (ages.length === 0) return null;
    ages.sort((a, b) => a - b);
    return ages[Math.floor(ages.length / 2)]!;
  }

  /** Hands queued jobs of `type` to ready workers with room, in the dispatch order. */
  #dispatch(type: string, now: number): void {
    const queue = this.queues.get(type)!;
    while (queue.size > 0) {
      const w = this.#nextFree(type);
      if (!w) return;
      const job = queue.shift()!;
      w.jobs.add(job);
      w.state = 'busy';
      w.idleSince = null;
      w.spent = w.oneShot;
      if (w.jobs.size < w.concurrency) w.freeSince = now;
      this.startAt[job] = now;
      this.events.push(now + this.trace.jobs[job]!.run, {
        kind: 'done',
        worker: w.index,
        job,
        epoch: this.epoch[job]!,
      });
    }
  }

  #nextFree(type: string): SimWorker | undefined {
    let best: SimWorker | undefined;
    for (const w of this.live.get(type)!) {
      if (w.state !== 'idle' && w.state !== 'busy') continue;
      if (w.jobs.size >= w.concurrency || w.spent) continue;
      if (!best || this.#before(w, best)) best = w;
    }
    return best;
  }

  /** Whether `a` takes a job before `b`; both ready with room. */
  #before(a: SimWorker, b: SimWorker): boolean {
    if (this.#order === 'spread') return a.freeSince < b.freeSince;
    const freeA = a.concurrency - a.jobs.size;
    const freeB = b.concurrency - b.jobs.size;
    return freeA !== freeB ? freeA < freeB : a.index < b.index;
  }
}
