import { EventEmitter, once } from 'node:events';
import { parseConfig } from '../../src/config/load.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { GafferEvents } from '../../src/domain/events.ts';
import type { Job } from '../../src/domain/job.ts';
import { linkPair } from '../../src/executors/in-process/link.ts';
import { createCatalog } from '../../src/jobs/catalog.ts';
import { Reconciler } from '../../src/jobs/reconciler.ts';
import { JobService } from '../../src/jobs/service.ts';
import { KeyParking } from '../../src/jobs/key-parking.ts';
import { WorkerGateway } from '../../src/jobs/worker-gateway.ts';
import type { ClaimRequest } from '../../src/store/job-store.ts';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import type { GafferMessage, WorkerMessage } from '../../src/worker/protocol.ts';
import { recordingLogger } from './log.ts';

/** Start of every harness's manual clock. */
export const T0 = 1_700_000_000_000;

/** One claim the store answered: what was asked, and the jobs it leased. */
export interface StoreClaim {
  request: ClaimRequest;
  jobs: Job[];
}

/**
 * The heart of gaffer without processes or timers: a `:memory:` SQLite store, the job service,
 * the worker gateway and the lease sweep, all on one manual clock, wired as the composition root
 * wires them (new jobs wake the workers waiting for their type). Workers are in-memory links the
 * test speaks for (`worker`). Nothing moves in time unless the test advances the clock.
 */
export function jobsHarness(
  raw: Record<string, unknown> = {},
  /** `parking`: broker mode's key parking, its publishes recorded in `republished`. */
  options: { parking?: boolean } = {},
) {
  const config = parseConfig(
    {
      leases: { ttlMs: 10_000, sweepMs: 1_000 },
      jobTypes: { echo: { worker: { command: ['true'] } } },
      ...raw,
    },
    'test',
  );
  const clock = new ManualClock(T0);
  const log = recordingLogger();
  const events = new GafferEvents(log);
  const store = createSqliteStore({ path: ':memory:', synchronous: 'NORMAL', log });
  // The store's claims and lease renewals, as they are answered: a test waits on one to know a
  // claim found nothing, or a heartbeat was written.
  const answered = new EventEmitter<{ claim: [StoreClaim]; heartbeat: [boolean] }>();
  const claim = store.claim.bind(store);
  store.claim = async (request) => {
    const jobs = await claim(request);
    answered.emit('claim', { request, jobs });
    return jobs;
  };
  const claimOrHold = store.claimOrHold.bind(store);
  store.claimOrHold = async (request) => {
    const out = await claimOrHold(request);
    answered.emit('claim', { request, jobs: out.jobs });
    return out;
  };
  const heartbeat = store.heartbeat.bind(store);
  store.heartbeat = async (id, token, expiresAt) => {
    const renewed = await heartbeat(id, token, expiresAt);
    answered.emit('heartbeat', renewed);
    return renewed;
  };
  const catalog = createCatalog({
    jobTypes: config.jobTypes,
    rules: config.routes.rules ?? [],
    cost: config.routes.cost,
  });
  const service = new JobService({
    store,
    clock,
    events,
    catalog: () => catalog,
    leaseTtlMs: config.leases.ttlMs,
    log,
  });
  const republished: string[][] = [];
  const parking = options.parking
    ? new KeyParking({
        keyLimit: (type) => catalog.type(type)?.keyLimit,
        publish: (ids) => void republished.push([...ids]),
      })
    : undefined;
  const gateway = new WorkerGateway({
    ...{ service, store, events, clock, log },
    ...(parking ? { parking } : {}),
  });
  events.on('job:queued', ({ jobs }) => {
    for (const type of new Set(jobs.map((j) => j.type))) gateway.notify(type);
  });
  if (parking) {
    for (const e of ['succeeded', 'failed', 'cancelled', 'retrying', 'redelivered'] as const) {
      events.on(`job:${e}`, ({ job }) => parking.ended(job));
    }
  }
  const reconciler = new Reconciler({
    service,
    store,
    gateway,
    clock,
    types: () => catalog.names(),
    log,
  });
  reconciler.start(config.leases.sweepMs);

  return {
    config,
    clock,
    log,
    events,
    store,
    service,
    gateway,
    reconciler,
    /** With `parking`: the job ids it published again, one array per publish. */
    republished,
    /** Resolves with the next claim the store answers that matches. */
    nextClaim(match: (c: StoreClaim) => boolean = () => true): Promise<StoreClaim> {
      return new Promise((resolve) => {
        const on = (c: StoreClaim) => {
          if (!match(c)) return;
          answered.off('claim', on);
          resolve(c);
        };
        answered.on('claim', on);
      });
    },
    /** Resolves with the next lease renewal's answer (false: refused, a stale token). */
    async nextHeartbeat(): Promise<boolean> {
      const [renewed] = await once(answered, 'heartbeat');
      return renewed;
    },
    /** Submits one job of `type` (default echo); resolves once it is committed. */
    async submit(type = 'echo', extra: Record<string, unknown> = {}): Promise<Job> {
      return (await service.submit({ type, ...extra })).job;
    },
    /**
     * A pool worker gaffer started (registered, connected), speaking the worker protocol on an
     * in-memory link. `hello: false`: connected but not yet ready.
     */
    async worker(
      id: string,
      options: { type?: string; concurrency?: number; hello?: boolean } = {},
    ) {
      const type = options.type ?? 'echo';
      gateway.register({ id, type, mode: 'pool', concurrency: options.concurrency ?? 1 });
      const w = connect(gateway, events, id);
      if (options.hello !== false) await w.hello(type);
      return w;
    },
    /** A per-job worker started for `job` (claimed for it, as the per-job launcher does). */
    async perJobWorker(id: string, type = 'echo') {
      const [job] = await service.claim(type, id, 1, 'starting');
      if (!job) throw new Error(`no ${type} job to start a per-job worker for`);
      gateway.register({ id, type, mode: 'per-job', concurrency: 1 }, job);
      return { job, worker: connect(gateway, events, id) };
    },
    /** Stops the sweep and closes the store. */
    async close(): Promise<void> {
      reconciler.stop();
      await gateway.recorded();
      await store.close();
    },
  };
}

export type JobsHarness = ReturnType<typeof jobsHarness>;

/** A worker's end of its link: what it sent, and the messages gaffer sent it, awaitable. */
export interface TestWorker {
  id: string;
  /** Every message gaffer sent this worker, in order. */
  received: GafferMessage[];
  send(msg: WorkerMessage): void;
  /**
   * Sends hello; a pool worker's resolves once the gateway made it ready (idle, or still draining).
   */
  hello(type: string, jobId?: string): Promise<void>;
  /** Resolves with the first message of kind `t` not taken yet, at once if it came already. */
  next<T extends GafferMessage['t']>(t: T): Promise<Extract<GafferMessage, { t: T }>>;
  /** Ends the link (the gateway is told of the exit separately: `gateway.exited`). */
  close(): void;
}

function connect(gateway: WorkerGateway, events: GafferEvents, id: string): TestWorker {
  const link = linkPair();
  const received: GafferMessage[] = [];
  const taken = new Set<number>();
  const arrived = new EventEmitter<{ message: [] }>();
  link.worker.onMessage((msg) => {
    received.push(msg);
    arrived.emit('message');
  });
  gateway.connected(id, link.gaffer, null);
  const take = (t: string) => {
    const i = received.findIndex((m, at) => m.t === t && !taken.has(at));
    if (i < 0) return null;
    taken.add(i);
    return received[i]!;
  };
  const worker: TestWorker = {
    id,
    received,
    send: (msg) => link.worker.send(msg),
    async hello(type, jobId) {
      // A pool worker's hello makes it ready: the gateway announces its state.
      const ready = jobId ? null : events.once('worker:state', ({ worker: w }) => w.id === id);
      link.worker.send({ t: 'hello', workerId: id, type, pid: 0, ...(jobId ? { jobId } : {}) });
      await ready;
    },
    async next(t) {
      for (;;) {
        const msg = take(t);
        if (msg) return msg as never;
        await once(arrived, 'message');
      }
    },
    close: () => link.close(),
  };
  return worker;
}
