import type { Clock, Scheduler } from '../domain/clock.ts';
import type { Hold } from '../domain/flow.ts';
import type { Job } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { WorkerInfo } from '../domain/events.ts';
import type { GafferMessage } from '../worker/protocol.ts';
import { settleDeliveries } from './delivery-settle.ts';
import type { KeyParking } from './key-parking.ts';
import type { JobService } from './service.ts';

/**
 * Broker mode: the claim of the job ids a broker-fed worker was delivered (`claim-jobs`). The ids
 * a worker sends in one turn of the event loop are claimed (or held by the type's flow limits) in
 * one store call; then each delivered id is, exactly one of:
 *
 * - claimed and assigned: leased to the worker (`host.assign`), which runs it;
 * - spent (`refused`, `requeue: false`): its job needs no message from it — running elsewhere,
 *   ended, cancel requested, not due — or it is parked by its full key (key-parking.ts), to be
 *   published again when the key frees a slot;
 * - held while its type is paused: kept by the worker, unacked, until `resumed` (claimed again at
 *   once) or PAUSE_HOLD_MS passes (handed back, `requeue: true`);
 * - handed back (`requeue: true`) when the rate window that held it frees a slot, or HOLD_RETRY_MS
 *   on for a key's starts window: not at once, which would spin on it;
 * - refused with requeue, unclaimed, when the worker is draining, gaffer is stopping, or the store
 *   refused the claim (the worker would otherwise hold the messages unclaimed for ever).
 *
 * Which of these applies is `settleDeliveries` (pure); this does the I/O. Without timers (a clock
 * with no `after`), held deliveries are handed back at once. Claimed jobs of a worker that exited
 * during the claim are abandoned at once.
 */

/** How long a broker-delivered job held by a key's starts window waits to go back. */
export const HOLD_RETRY_MS = 1000;
/**
 * How long a worker keeps delivered jobs of a paused type before handing them back, unless the
 * type is resumed first: long, so a pause costs no claims, and far under RabbitMQ's default
 * `consumer_timeout` (30 min) after which the broker would close the channel.
 */
export const PAUSE_HOLD_MS = 60_000;

/** A worker as the delivery claims see it: the gateway's own record of it (its identity). */
export interface DeliveringWorker {
  readonly info: Pick<WorkerInfo, 'id' | 'type' | 'state'>;
}

/** What the delivery claims need back from the worker gateway. */
export interface DeliveryHost<W extends DeliveringWorker> {
  /** gaffer's stop has begun: no job is handed out any more. */
  stopping(): boolean;
  /** The worker is still tracked (it has not exited). */
  tracked(w: W): boolean;
  /** Sends to the worker's connection, if it has one. */
  send(w: W, msg: GafferMessage): void;
  /** Holds claimed jobs as the worker's leases and tells it to run them. */
  assign(w: W, jobs: Job[]): void;
}

export interface DeliveryClaimsDeps<W extends DeliveringWorker> {
  service: Pick<JobService, 'claimOrHold' | 'abandon'>;
  /** With timers (a `TimedClock`), held deliveries are handed back later, not at once. */
  clock: Clock & Partial<Scheduler>;
  log: Pick<Logger, 'error'>;
  /** Parks deliveries held by a full key instead of handing them back (null: none parks). */
  parking: Pick<KeyParking, 'parks' | 'ends' | 'park'> | null;
  host: DeliveryHost<W>;
}

/** Per worker: ids waiting for this turn's claim, and ids its type's pause holds. */
interface Deliveries {
  pending: string[];
  paused: Set<string>;
}

export class DeliveryClaims<W extends DeliveringWorker> {
  readonly #d: DeliveryClaimsDeps<W>;
  readonly #of = new WeakMap<W, Deliveries>();

  constructor(deps: DeliveryClaimsDeps<W>) {
    this.#d = deps;
  }

  /** The worker was delivered `ids`: they are claimed with the rest of this turn's. */
  delivered(w: W, ids: readonly string[]): void {
    const d = this.#deliveries(w);
    const first = d.pending.length === 0;
    d.pending.push(...ids);
    if (first && ids.length > 0) {
      setImmediate(() =>
        this.#claimPending(w, d).catch((err: unknown) =>
          this.#d.log.error({ err, worker: w.info.id }, 'claiming delivered jobs failed'),
        ),
      );
    }
  }

  /** The worker's type was resumed: the deliveries its pause held are claimed again at once. */
  resumed(w: W): void {
    const d = this.#of.get(w);
    if (!d || d.paused.size === 0) return;
    const ids = [...d.paused];
    d.paused.clear();
    this.delivered(w, ids);
  }

  #deliveries(w: W): Deliveries {
    let d = this.#of.get(w);
    if (!d) this.#of.set(w, (d = { pending: [], paused: new Set() }));
    return d;
  }

  async #claimPending(w: W, d: Deliveries): Promise<void> {
    const { service, clock, parking, host } = this.#d;
    const ids = d.pending.splice(0);
    const refuse = (back: string[]) => host.send(w, { t: 'refused', ids: back, requeue: true });
    if (w.info.state === 'draining' || host.stopping()) return refuse(ids);
    const type = w.info.type;
    const endsSeen = parking?.ends(type) ?? 0;
    let jobs: Job[];
    let held: { id: string; hold: Hold }[];
    try {
      ({ jobs, held } = await service.claimOrHold(type, w.info.id, ids.length, 'running', ids));
    } catch (err) {
      // The store refused (disk full, connection lost): a live consumer would keep them for ever.
      refuse(ids);
      throw err;
    }
    if (!host.tracked(w)) {
      await service.abandon(jobs, {
        class: 'infrastructure',
        message: 'worker gone before delivery',
      });
      return;
    }
    const { spent, parked, paused, handBack } = settleDeliveries({
      ...{ ids, held, now: clock.now(), retryMs: HOLD_RETRY_MS },
      claimed: jobs.map((j) => j.id),
      parks: parking?.parks(type) ?? false,
    });
    // Parked: its message spent, so the worker's slot takes the next one (key-parking.ts).
    parking?.park(type, parked, endsSeen);
    if (spent.length > 0) host.send(w, { t: 'refused', ids: spent, requeue: false });
    this.#holdWhilePaused(w, d, paused);
    if (handBack) this.#at(handBack.at, () => refuse(handBack.ids));
    if (jobs.length > 0) host.assign(w, jobs);
  }

  /** Kept unacked until `resumed` or PAUSE_HOLD_MS passes, then handed back. */
  #holdWhilePaused(w: W, d: Deliveries, ids: string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) d.paused.add(id);
    this.#at(this.#d.clock.now() + PAUSE_HOLD_MS, () => {
      const back = ids.filter((id) => d.paused.delete(id));
      if (back.length > 0) this.#d.host.send(w, { t: 'refused', ids: back, requeue: true });
    });
  }

  /** Runs `fn` at `at` on gaffer's clock; at once without timers. */
  #at(at: number, fn: () => void): void {
    const { clock } = this.#d;
    if (!clock.after) return fn();
    clock.after(Math.max(0, at - clock.now()), fn);
  }
}
