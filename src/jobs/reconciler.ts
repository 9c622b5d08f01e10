import type { Clock } from '../domain/clock.ts';
import type { JobService } from './service.ts';
import type { WorkerGateway } from './worker-gateway.ts';

/**
 * Invariant 4: a dead worker or a lost wake-up never loses a job. Every sweep expires stale leases
 * (the job is retried or ended by its retry policy) and wakes waiting workers for every type, so a
 * job whose backoff has passed is picked up even if its timer was lost.
 */
export class Reconciler {
  readonly #o: { service: JobService; gateway: WorkerGateway; clock: Clock; types: () => string[] };
  #timer: NodeJS.Timeout | null = null;

  constructor(options: {
    service: JobService;
    gateway: WorkerGateway;
    clock: Clock;
    types: () => string[];
  }) {
    this.#o = options;
  }

  start(everyMs: number): void {
    this.#timer = setInterval(
      () => void this.sweep().catch((err) => console.error('sweep failed', err)),
      everyMs,
    );
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async sweep(): Promise<number> {
    const expired = await this.#o.service.store.findExpired(this.#o.clock.now());
    for (const job of expired) this.#o.gateway.forget(job.id);
    await this.#o.service.abandon(expired, {
      class: 'infrastructure',
      message: 'lease expired: the worker stopped heartbeating',
    });
    for (const type of this.#o.types()) this.#o.gateway.notify(type);
    return expired.length;
  }

  /** Jobs held by local workers of an earlier gaffer process: those processes are gone. */
  async recoverOrphans(prefix: string, current: string): Promise<number> {
    const orphans = await this.#o.service.store.findOwnedByPrefix(prefix, current);
    await this.#o.service.abandon(orphans, {
      class: 'infrastructure',
      message: 'gaffer restarted while the job ran',
    });
    return orphans.length;
  }
}
