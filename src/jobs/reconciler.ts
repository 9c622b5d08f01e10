import type { RetentionConfig } from '../config/schema.ts';
import type { TimedClock, Timer } from '../domain/clock.ts';
import type { Logger } from '../domain/logger.ts';
import { Retention } from './retention.ts';
import type { JobRecords } from '../store/roles/job-records.ts';
import type { JobRetention } from '../store/roles/job-retention.ts';
import type { JobService } from './service.ts';
import type { WorkerGateway } from './worker-gateway.ts';

interface ReconcilerOptions {
  service: Pick<JobService, 'abandon' | 'expireDue'>;
  /** Where expired leases and orphans are found, and retention applied. */
  store: Pick<JobRecords, 'findExpired' | 'findOwnedByPrefix'> & JobRetention;
  gateway: Pick<WorkerGateway, 'forget' | 'notify'>;
  /** Reads lease expiry and schedules the sweeps. */
  clock: TimedClock;
  types: () => string[];
  /** Broker mode: publishes again due jobs whose message went missing (see republish.ts). */
  republish?: () => Promise<number>;
  /** Retention limits (jobs/retention.ts), applied every `retention.sweepMs` of the sweeps. */
  retention?: () => RetentionConfig;
  log: Pick<Logger, 'error'>;
}

/**
 * Invariant 4: a dead worker, a lost wake-up or a lost message never loses a job. Every sweep
 * expires stale leases (the job is retried or ended by its retry policy), wakes waiting workers
 * for every type, so a job whose backoff or delay has passed is picked up even if its timer was
 * lost, ends as `expired` every queued job past its expiry, and in broker mode publishes delayed
 * jobs that fell due and republishes due jobs the broker holds no message for. When it is due, it also
 * applies the retention limits.
 */
export class Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #retention: Retention | null;
  #timer: Timer | null = null;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    const policy = options.retention;
    this.#retention = policy
      ? new Retention({ store: options.store, clock: options.clock, policy })
      : null;
  }

  start(everyMs: number): void {
    // The message only, no stack: while a broker is down this repeats every sweep until it is back.
    const sweep = () =>
      void this.sweep().catch((err: Error) =>
        this.#o.log.error({ error: err.message }, 'sweep failed'),
      );
    this.#timer = this.#o.clock.every(
      everyMs,
      // After what workers sent meanwhile is read: when gaffer itself was held up (starved of CPU,
      // a long GC, a slow write), its timers run before its sockets are read, and a lease whose
      // worker sent its heartbeat or its result in time would be judged expired with that message
      // waiting unread (a duplicate under load). setImmediate runs after this turn's I/O.
      () => setImmediate(sweep),
    );
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }

  async sweep(): Promise<number> {
    const expired = await this.#o.store.findExpired(this.#o.clock.now());
    for (const job of expired) this.#o.gateway.forget(job.id);
    await this.#o.service.abandon(
      expired,
      {
        class: 'infrastructure',
        message: 'lease expired: the worker stopped heartbeating',
      },
      'lease_expired',
    );
    // Queue-wait expiry: jobs not started by their expiresAt end as `expired`, never run.
    await this.#o.service.expireDue();
    for (const type of this.#o.types()) this.#o.gateway.notify(type);
    await this.#o.republish?.();
    // Last: a slow or failing retention pass never delays recovering jobs.
    await this.#retention?.sweepIfDue();
    return expired.length;
  }

  /** Jobs held by local workers of an earlier gaffer process: those processes are gone. */
  async recoverOrphans(prefix: string, current: string): Promise<number> {
    const orphans = await this.#o.store.findOwnedByPrefix(prefix, current);
    await this.#o.service.abandon(
      orphans,
      {
        class: 'infrastructure',
        message: 'gaffer restarted while the job ran',
      },
      'gaffer_restarted',
    );
    return orphans.length;
  }
}
