import type { Clock, Scheduler } from '../domain/clock.ts';
import type { GafferEvents, StartBlock, WorkerInfo } from '../domain/events.ts';
import type { Job, JobError } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import { canWorkerTransition, type WorkerState } from '../domain/worker-state.ts';
import type { ScalingLog, WorkerEvent } from '../store/roles/scaling-log.ts';
import type { WorkerConnection, WorkerMessage } from '../worker/protocol.ts';
import { toAssignment } from './assignment.ts';
import { DeliveryClaims } from './delivery-claims.ts';
import { packingOrder } from './dispatch-order.ts';
import { RateWakes } from './rate-wakes.ts';
import type { KeyParking } from './key-parking.ts';
import type { JobService } from './service.ts';

interface Lease {
  token: number;
  job: Pick<Job, 'id' | 'type' | 'attempt' | 'maxAttempts'>;
}

interface Tracked {
  info: WorkerInfo;
  conn: WorkerConnection | null;
  leases: Map<string, Lease>;
  /** Jobs the worker asked for and has not been given yet (a long poll). */
  wants: number;
  claiming: boolean;
  /** Per-job mode: the job claimed for this worker before it was started. */
  assigned: Job | null;
}

/**
 * gaffer's side of every worker connection: serves claims (long-polled, woken by new jobs), keeps
 * the leases each worker holds, turns heartbeats, logs and completions into fenced service calls,
 * and drains workers for scale-in. It knows, at every instant, whether a worker is busy — so a
 * worker is told to stop only once it holds nothing (invariant 5).
 */
export class WorkerGateway {
  readonly #service: JobService;
  /** Where every worker's start, drain and stop is recorded. */
  readonly #workerLog: Pick<ScalingLog, 'recordWorkerEvent'>;
  readonly #events: GafferEvents;
  readonly #clock: Clock & Partial<Scheduler>;
  /** Serves a rate-limited type's waiting workers when its window frees a slot. */
  readonly #wakes: RateWakes;
  readonly #log: Pick<Logger, 'error'>;
  /** Broker mode: the claims of the job ids workers were delivered (delivery-claims.ts). */
  readonly #deliveries: DeliveryClaims<Tracked>;
  readonly #workers = new Map<string, Tracked>();
  /** Bumped on every notify of a type, so a claim that raced with new jobs tries again. */
  readonly #notifySeq = new Map<string, number>();
  /** Set by close(): messages still in flight from dying workers are dropped, not applied. */
  #closed = false;
  /**
   * Set by stopping() (gaffer's stop): no job is handed out any more, and the jobs a worker holds
   * when it exits are handed back as interrupted (the attempt not counted), not failed.
   */
  #stopping = false;
  /** Jobs handed back by this stop, and jobs whose hand-back the store refused. */
  readonly #stop = { handedBack: [] as string[], unrecorded: [] as string[] };
  /** Worker events being written: recording never holds up a worker, but can be awaited. */
  readonly #recording = new Set<Promise<void>>();

  constructor(options: {
    service: JobService;
    store: Pick<ScalingLog, 'recordWorkerEvent'>;
    events: GafferEvents;
    /** With timers (a `TimedClock`), a rate-limited type's workers are served when it frees. */
    clock: Clock & Partial<Scheduler>;
    log: Pick<Logger, 'error'>;
    /** Broker mode: parks deliveries held by a full key instead of handing them back. */
    parking?: Pick<KeyParking, 'parks' | 'ends' | 'park'>;
  }) {
    this.#service = options.service;
    this.#workerLog = options.store;
    this.#events = options.events;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#wakes = new RateWakes({ clock: options.clock, wake: (type) => this.notify(type) });
    this.#deliveries = new DeliveryClaims<Tracked>({
      ...{ service: options.service, clock: options.clock, log: options.log },
      parking: options.parking ?? null,
      host: {
        stopping: () => this.#stopping,
        tracked: (w) => this.#workers.has(w.info.id),
        send: (w, msg) => w.conn?.send(msg),
        assign: (w, jobs) => this.#assign(w, jobs),
      },
    });
  }

  /**
   * gaffer's stop begins (the executor is about to stop every worker): no job is handed out any
   * more, and from now on the jobs a worker holds when it exits — their attempts cut short by the
   * stop — go back to the queue without spending an attempt (`JobService.interrupt`).
   */
  stopping(): void {
    this.#stopping = true;
  }

  /** What this stop did with the jobs workers held: ids handed back, ids the store refused. */
  get stopped(): { handedBack: readonly string[]; unrecorded: readonly string[] } {
    return this.#stop;
  }

  /**
   * Stops serving workers; jobs still held then are recovered on the next start (invariant 4),
   * as after a crash.
   */
  close(): void {
    this.#closed = true;
    this.#wakes.close();
  }

  /** Resolves once every worker event recorded so far is written (or failed to be). */
  async recorded(): Promise<void> {
    await Promise.all(this.#recording);
  }

  /** A worker process is being started; it counts as capacity on the way. */
  register(
    worker: Pick<WorkerInfo, 'id' | 'type' | 'mode' | 'concurrency'>,
    assigned: Job | null = null,
  ): void {
    const info: WorkerInfo = {
      ...worker,
      state: 'starting',
      active: 0,
      startedAt: this.#clock.now(),
      idleSince: null,
      readyAt: null,
      pid: null,
    };
    this.#workers.set(worker.id, {
      info,
      conn: null,
      leases: new Map(),
      wants: 0,
      claiming: false,
      assigned,
    });
    if (assigned?.leaseToken != null) {
      this.#hold(this.#workers.get(worker.id)!, assigned, assigned.leaseToken);
    }
    this.#record(info, 'started', null);
    this.#events.emit('worker:started', { worker: { ...info } });
  }

  /**
   * Which worker a network connection naming itself `workerId` is. A worker gaffer started and
   * still waits for (tracked, same type, no connection yet) is that worker (`started`); any other
   * is a worker started apart, tracked as `remote-<workerId>`. Null when that worker already has a
   * connection: a second connection never takes over a live worker.
   */
  connectionTarget(workerId: string, type: string): { id: string; started: boolean } | null {
    const own = this.#workers.get(workerId);
    if (own && own.info.type === type) return own.conn ? null : { id: workerId, started: true };
    const id = `remote-${workerId}`;
    return this.#workers.get(id)?.conn ? null : { id, started: false };
  }

  /** The worker's connection is up; ignored for an unknown worker or one already connected. */
  connected(id: string, conn: WorkerConnection, pid: number | null): void {
    const w = this.#workers.get(id);
    if (!w || w.conn) return;
    w.conn = conn;
    w.info.pid = pid;
    conn.onMessage(
      (msg) =>
        void this.#onMessage(w, msg).catch((err: unknown) =>
          this.#log.error({ err, worker: w.info.id }, 'worker message failed'),
        ),
    );
  }

  /**
   * The worker's process (or its connection) is gone. Jobs it held are retried or ended (never
   * lost). Idempotent: a networked worker reports both its socket's close and its process's exit;
   * the first one counts, the later one finds nothing.
   */
  exited(id: string, code: number | null, signal: string | null): Promise<void> {
    // Tracked: gaffer's stop closes the store only once every exit is recorded (`recorded`).
    return this.#track(this.#exited(id, code, signal));
  }

  /** `recorded()` waits for `work` too. */
  #track(work: Promise<void>): Promise<void> {
    const tracked = work.then(
      () => {},
      () => {},
    );
    this.#recording.add(tracked);
    void tracked.finally(() => this.#recording.delete(tracked));
    return work;
  }

  async #exited(id: string, code: number | null, signal: string | null): Promise<void> {
    const w = this.#workers.get(id);
    if (!w || this.#closed) return;
    this.#workers.delete(id);
    const held = [...w.leases.values()];
    // Holding nothing and exiting 0, or gone while draining: it stopped as asked (a drained worker,
    // a per-job worker done, a remote worker whose connection closed after its drain).
    const clean = held.length === 0 && (code === 0 || w.info.state === 'draining');
    this.#move(w, 'stopped');
    this.#record(w.info, clean ? 'stopped' : 'crashed', `code ${code} signal ${signal}`);
    this.#events.emit('worker:stopped', { worker: { ...w.info }, code, signal, clean });
    if (this.#stopping) return this.#handBack(held);
    // Any job it held may be what killed it (a handler that crashed or exhausted the process):
    // each becomes a suspect, whose next attempt runs sandboxed (toAssignment).
    const error: JobError = {
      class: 'infrastructure',
      message: `worker ${id} exited (code ${code}, signal ${signal})`,
      exitCode: code,
      signal,
      workerLost: true,
    };
    await this.#service.abandon(
      held.map((l) => ({ ...l.job, leaseToken: l.token }) as Job),
      error,
    );
  }

  /** gaffer's stop ended these attempts: back to the queue, the attempts not counted. */
  async #handBack(held: readonly Lease[]): Promise<void> {
    if (held.length === 0) return;
    try {
      const back = await this.#service.interrupt(held);
      this.#stop.handedBack.push(...back.map((j) => j.id));
    } catch (err) {
      // Left in flight: the next start recovers them as orphans (an attempt is spent then).
      this.#stop.unrecorded.push(...held.map((l) => l.job.id));
      this.#log.error({ err }, 'recording the jobs interrupted by the stop failed');
    }
  }

  /** Scale-in: the worker takes nothing new and is told to exit once it holds no job. */
  retire(id: string): boolean {
    const w = this.#workers.get(id);
    if (!w || !this.#move(w, 'draining')) return false;
    this.#record(w.info, 'draining', null);
    this.#emitState(w);
    this.#maybeStop(w);
    return true;
  }

  /**
   * A worker process's own stdout/stderr. A per-job worker's output is its job's log; a pool
   * worker's goes to gaffer's stderr, so a handler's crash is never silent.
   */
  output(id: string, stream: 'stdout' | 'stderr', data: string): void {
    const w = this.#workers.get(id);
    // By the assigned job, not the lease: output may trail the worker's `done` message.
    if (w?.assigned) {
      void this.#service.appendLog(w.assigned.id, stream, data).catch(() => {});
    } else {
      process.stderr.write(data.replace(/^/gm, `[${id}] `).replace(/\[[^\]]*\] $/, ''));
    }
  }

  /** The executor reports what a starting worker waits for (null: nothing any more). */
  waiting(id: string, block: StartBlock | null): void {
    const w = this.#workers.get(id);
    if (!w || w.info.waitingFor?.message === block?.message) return;
    w.info.waitingFor = block;
    this.#emitState(w);
  }

  /** Why a per-job worker's job has not started yet, if its executor said. */
  pendingReason(jobId: string): StartBlock | null {
    for (const w of this.#workers.values()) {
      if (w.assigned?.id === jobId && w.info.state === 'starting') return w.info.waitingFor ?? null;
    }
    return null;
  }

  /**
   * New jobs of this type may be claimable: serve the workers waiting for some, one claim at a
   * time in packing order (`packingOrder`: the busiest first), so the jobs go to the workers
   * already in use and surplus ones stay idle for the autoscaler to retire. Stops at the first
   * claim that finds nothing: the workers after it would find nothing either, and wait on.
   */
  notify(type: string): void {
    this.#notifySeq.set(type, (this.#notifySeq.get(type) ?? 0) + 1);
    const waiting = [...this.#workers.values()].filter((w) => w.info.type === type && w.wants > 0);
    if (waiting.length > 0) void this.#serveInOrder(packingOrder(waiting, (w) => w.info));
  }

  async #serveInOrder(workers: readonly Tracked[]): Promise<void> {
    for (const w of workers) {
      // A failed claim (the store refused: disk full, connection lost) is logged; the worker
      // still wants jobs and is served again at the next notify (every lease sweep notifies).
      const claimed = await this.#serve(w).catch((err: unknown) => {
        this.#log.error({ err, worker: w.info.id }, 'serving a worker failed');
        return null;
      });
      if (claimed === 0) return;
    }
  }

  /** Stop a job wherever it runs (cancelled, or its lease was lost). */
  stopJob(jobId: string, reason: string): void {
    for (const w of this.#workers.values()) {
      if (w.leases.has(jobId)) w.conn?.send({ t: 'cancel', id: jobId, reason });
    }
  }

  /** The lease was expired by the reconciler: whatever the holder reports now is stale. */
  forget(jobId: string): void {
    for (const w of this.#workers.values()) {
      if (w.leases.delete(jobId)) {
        w.conn?.send({ t: 'cancel', id: jobId, reason: 'lease expired' });
        this.#released(w);
      }
    }
  }

  workers(type?: string): WorkerInfo[] {
    const out: WorkerInfo[] = [];
    for (const w of this.#workers.values()) {
      if (!type || w.info.type === type) out.push({ ...w.info });
    }
    return out;
  }

  types(): string[] {
    return [...new Set([...this.#workers.values()].map((w) => w.info.type))];
  }

  async #onMessage(w: Tracked, msg: WorkerMessage): Promise<void> {
    if (this.#closed) return;
    switch (msg.t) {
      case 'hello':
        return this.#hello(w);
      case 'claim':
        w.wants = msg.max;
        await this.#serve(w);
        return;
      case 'claim-jobs':
        return this.#deliveries.delivered(w, msg.ids);
      case 'heartbeat':
        return this.#heartbeat(w, msg.leases);
      case 'started':
        if (w.leases.get(msg.id)?.token !== msg.token) return;
        if (this.#move(w, 'busy')) this.#emitState(w);
        await this.#service.markRunning(msg.id, msg.token);
        return;
      case 'log':
        if (w.leases.get(msg.id)?.token === msg.token) {
          await this.#service.appendLog(msg.id, msg.stream, msg.data);
        }
        return;
      case 'done':
        return this.#done(w, msg.id, msg.token, msg.outcome);
    }
  }

  #hello(w: Tracked): void {
    w.info.readyAt ??= this.#clock.now();
    if (w.assigned && w.assigned.leaseToken != null) {
      // Stopping: the job is not started; it is handed back when this worker is gone.
      if (this.#stopping) return;
      // Never isolated: a per-job worker's process is that one job's sandbox already.
      const job = toAssignment(w.assigned, w.assigned.leaseToken, false);
      w.conn?.send({ t: 'jobs', jobs: [job] });
    } else {
      // A draining worker (retired while starting) stays draining; a hello the worker state table
      // refuses (an idle worker's second) is ignored.
      if (w.info.state !== 'draining' && !this.#move(w, 'idle')) return;
      w.info.idleSince = this.#clock.now();
      this.#record(w.info, 'ready', null);
      this.#emitState(w);
      this.#maybeStop(w);
    }
  }

  /** Claims for a waiting worker: the jobs it was given, null when it was not served. */
  async #serve(w: Tracked): Promise<number | null> {
    if (
      this.#stopping ||
      w.claiming ||
      w.wants <= 0 ||
      !w.conn ||
      w.info.state === 'draining' ||
      w.info.mode === 'per-job'
    ) {
      return null;
    }
    w.claiming = true;
    const seq = this.#notifySeq.get(w.info.type) ?? 0;
    let jobs: Job[];
    try {
      const out = await this.#service.claimOrHold(w.info.type, w.info.id, w.wants, 'running');
      jobs = out.jobs;
      this.#wakes.held(w.info.type, out.held);
    } finally {
      w.claiming = false;
    }
    if (!this.#workers.has(w.info.id)) {
      // The worker died while we claimed: hand the jobs back at once.
      await this.#service.abandon(jobs, {
        class: 'infrastructure',
        message: 'worker gone before delivery',
      });
      return null;
    }
    if (jobs.length === 0) {
      this.#maybeStop(w);
      if ((this.#notifySeq.get(w.info.type) ?? 0) !== seq) return this.#serve(w);
      return 0;
    }
    // One claim, at most one answer: the worker asks again for whatever slots are still free.
    w.wants = 0;
    this.#assign(w, jobs);
    return jobs.length;
  }

  /** Jobs claimed for a pool worker: held as its leases, and sent to it to run. */
  #assign(w: Tracked, jobs: Job[]): void {
    for (const job of jobs) this.#hold(w, job, job.leaseToken!);
    w.conn?.send({ t: 'jobs', jobs: jobs.map((j) => toAssignment(j, j.leaseToken!, true)) });
    for (const job of jobs) this.#events.emit('job:started', { job });
  }

  #hold(w: Tracked, job: Job, token: number): void {
    w.leases.set(job.id, {
      token,
      job: { id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts },
    });
    w.info.active = w.leases.size;
    // A per-job worker holds its job from the start; it is busy once it says it started the job.
    const perJobStarting = w.info.mode === 'per-job' && w.info.state === 'starting';
    if (perJobStarting || this.#move(w, 'busy')) {
      w.info.idleSince = null;
      this.#emitState(w);
    }
  }

  async #heartbeat(w: Tracked, leases: { id: string; token: number }[]): Promise<void> {
    for (const { id, token } of leases) {
      if (w.leases.get(id)?.token !== token) continue;
      if (!(await this.#service.heartbeat(id, token))) this.forget(id);
    }
  }

  async #done(
    w: Tracked,
    id: string,
    token: number,
    outcome: Parameters<JobService['complete']>[2],
  ): Promise<void> {
    const lease = w.leases.get(id);
    if (lease && lease.token === token) {
      w.leases.delete(id);
      this.#released(w);
      // An executor that stops a job itself on gaffer's stop (a Kubernetes Job deleted) says so;
      // honoured only during a stop.
      if (this.#stopping && outcome.status === 'failed' && outcome.error.interrupted === true) {
        return this.#track(this.#handBack([lease]));
      }
      await this.#service.complete(lease.job, token, outcome);
      // Under a key limit, a job that ends frees its key: claims waiting on it are served now.
      if (this.#service.flowLimits(lease.job.type)?.keyLimit) this.notify(lease.job.type);
    } // else stale: the job was re-leased or ended; nothing to write
  }

  /** The type was resumed: its workers claim the deliveries its pause held, and wait no more. */
  resumed(type: string): void {
    for (const w of this.#workers.values()) {
      if (w.info.type === type) this.#deliveries.resumed(w);
    }
    this.notify(type);
  }

  #released(w: Tracked): void {
    w.info.active = w.leases.size;
    if (w.leases.size === 0 && w.info.state === 'busy' && this.#move(w, 'idle')) {
      w.info.idleSince = this.#clock.now();
      this.#emitState(w);
    }
    this.#maybeStop(w);
  }

  /** A draining worker holding no job is told to exit; a busy one never is. */
  #maybeStop(w: Tracked): void {
    if (w.info.state === 'draining' && w.leases.size === 0 && !w.claiming && w.conn) {
      w.conn.send({ t: 'drain' });
    }
  }

  /** Moves the worker to `to` if the worker state table allows it; false leaves it as it is. */
  #move(w: Tracked, to: WorkerState): boolean {
    if (!canWorkerTransition(w.info.state, to)) return false;
    w.info.state = to;
    return true;
  }

  #emitState(w: Tracked): void {
    this.#events.emit('worker:state', { worker: { ...w.info } });
  }

  #record(info: WorkerInfo, event: WorkerEvent['event'], detail: string | null): void {
    const entry: WorkerEvent = {
      at: this.#clock.now(),
      workerId: info.id,
      type: info.type,
      event,
      active: info.active,
      detail,
    };
    const write = this.#workerLog
      .recordWorkerEvent(entry)
      .catch((err: unknown) =>
        this.#log.error({ err, worker: info.id }, 'recording a worker event failed'),
      )
      .finally(() => this.#recording.delete(write));
    this.#recording.add(write);
  }
}
