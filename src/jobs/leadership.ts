import type { TimedClock, Timer } from '../domain/clock.ts';
import type { GafferEvents } from '../domain/events.ts';
import type { JobStore } from '../store/job-store.ts';
import { hasLeaderLease, type LeaderLease } from '../store/leader-lease.ts';

/**
 * Which replica runs the autoscaler (and the broker republish). Invariant: the loop runs only
 * while this replica holds the `autoscaler` lease, renewed every third of its TTL, so after the
 * holder dies another takes over within the TTL; each change of holder is one `leader:changed`.
 * Without a lease (one process) the loop just runs, and `leading` stays false.
 */
export interface LeadershipDeps {
  /** A Kubernetes Lease, the shared store's, or null. */
  lease: LeaderLease | null;
  holder: string;
  ttlMs: number;
  /** Reads the time and schedules the renewals. */
  clock: Pick<TimedClock, 'now' | 'every'>;
  events: Pick<GafferEvents, 'emit'>;
  loop: { start(): void; stop(): void };
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
    const { lease, loop } = this.#d;
    if (!lease) return loop.start();
    const every = Math.max(50, Math.floor(this.#d.ttlMs / 3));
    this.#timer = this.#d.clock.every(every, () => void this.#tick(lease));
    await this.#tick(lease);
  }

  /** Stops renewing and lets the lease go, so another replica need not wait out its TTL. */
  async stop(): Promise<void> {
    this.#timer?.cancel();
    if (this.#leading && this.#d.lease) {
      await this.#d.lease.release('autoscaler', this.#d.holder).catch(() => {});
    }
  }

  async #tick(lease: LeaderLease): Promise<void> {
    const { holder, ttlMs, clock, events, loop } = this.#d;
    const held = await lease.acquire('autoscaler', holder, ttlMs, clock.now()).catch(() => false);
    if (held && !this.#leading) loop.start();
    if (!held && this.#leading) loop.stop();
    if (held !== this.#leading) events.emit('leader:changed', { holder: held ? holder : null });
    this.#leading = held;
  }
}
