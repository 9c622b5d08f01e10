import type { TimedClock, Timer } from '../domain/clock.ts';
import type { GafferEvents } from '../domain/events.ts';
import type { JobStore } from '../store/job-store.ts';
import { hasLeaderLease, type LeaderLease } from '../store/leader-lease.ts';

/**
 * Which replica does the leader's duties: the autoscaler, the cron schedules (and the broker
 * republish, which asks `leading`). Invariant: the duties run only while this replica holds the
 * `autoscaler` lease, renewed every third of its TTL, so after the holder dies another takes over
 * within the TTL; each change of holder is one `leader:changed`. Without a lease (one process)
 * the duties just run, and `leading` stays false.
 */
export interface LeadershipDeps {
  /** A Kubernetes Lease, the shared store's, or null. */
  lease: LeaderLease | null;
  holder: string;
  ttlMs: number;
  /** Reads the time and schedules the renewals. */
  clock: Pick<TimedClock, 'now' | 'every'>;
  events: Pick<GafferEvents, 'emit'>;
  /** What runs only on the leader: started on taking the lease, stopped on losing it. */
  duties: readonly LeaderDuty[];
}

export interface LeaderDuty {
  start(): void;
  stop(): void;
}

/**
 * Who decides: the default executor's lease when it offers one (a Kubernetes Lease: replicas in a
 * cluster), else the shared store's (PostgreSQL), else none (one process).
 */
export function chooseLeaderLease(
  executorLease: LeaderLease | null,
  store: JobStore,
): LeaderLease | null {
  return executorLease ?? (hasLeaderLease(store) ? store : null);
}

export class Leadership {
  readonly #d: LeadershipDeps;
  #leading = false;
  #stopped = false;
  #timer: Timer | null = null;

  constructor(deps: LeadershipDeps) {
    this.#d = deps;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Whether a lease decides who leads (several replicas may share the store). */
  get shared(): boolean {
    return this.#d.lease !== null;
  }

  async start(): Promise<void> {
    const { lease, duties } = this.#d;
    if (!lease) return void duties.forEach((d) => d.start());
    const every = Math.max(50, Math.floor(this.#d.ttlMs / 3));
    this.#timer = this.#d.clock.every(every, () => void this.#tick(lease));
    await this.#tick(lease);
  }

  /**
   * Stops renewing, stops the duties and lets the lease go, so another replica need not wait out
   * its TTL. A renewal under way that lands afterwards changes nothing.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    for (const d of this.#d.duties) d.stop();
    if (this.#leading && this.#d.lease) {
      await this.#d.lease.release('autoscaler', this.#d.holder).catch(() => {});
    }
  }

  async #tick(lease: LeaderLease): Promise<void> {
    const { holder, ttlMs, clock, events, duties } = this.#d;
    const held = await lease.acquire('autoscaler', holder, ttlMs, clock.now()).catch(() => false);
    if (this.#stopped) {
      if (held && !this.#leading) await lease.release('autoscaler', holder).catch(() => {});
      return;
    }
    if (held && !this.#leading) for (const d of duties) d.start();
    if (!held && this.#leading) for (const d of duties) d.stop();
    if (held !== this.#leading) events.emit('leader:changed', { holder: held ? holder : null });
    this.#leading = held;
  }
}
