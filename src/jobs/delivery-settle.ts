import type { Hold } from '../domain/flow.ts';

/** What the claim of a worker's broker deliveries answered. */
export interface DeliveryClaim {
  /** The delivered job ids, as the worker sent them. */
  ids: readonly string[];
  /** The ids the claim leased to the worker. */
  claimed: readonly string[];
  /** The ids the type's pause or flow limits held back, each with its hold. */
  held: readonly { id: string; hold: Hold }[];
  /** Whether the type parks deliveries its full key holds (key-parking.ts `parks`). */
  parks: boolean;
  now: number;
  /** How long a hold with no time of its own (a key's starts window) waits to go back. */
  retryMs: number;
}

/** What becomes of each delivered id besides the claimed ones, which run. */
export interface DeliverySettlement {
  /** Acked and dropped: the job is not claimable (running elsewhere, ended, cancel requested, not
   * due — a retry's message is published when it falls due) or parked. */
  spent: string[];
  /** Held by their full key on a type that parks: published again when the key frees a slot. */
  parked: { id: string; key: string }[];
  /** Held by the type's pause: kept by the worker, unacked, until resumed. */
  paused: string[];
  /** Handed back to the broker at `at` (the earliest time a hold frees), or null: none. */
  handBack: { ids: string[]; at: number } | null;
}

/**
 * Broker mode: what becomes of a worker's deliveries once their claim answered. Pure. Invariant
 * (4, nothing accepted is lost): a delivery is spent only when its job needs no message from it —
 * it ended or runs elsewhere, or it will be published again (when due; when its key frees a slot);
 * a held job keeps its message, with the worker while paused, or back in the broker once its
 * window frees a slot — handed back at that time, not at once, so nothing spins on it.
 */
export function settleDeliveries(c: DeliveryClaim): DeliverySettlement {
  const claimed = new Set(c.claimed);
  const heldIds = new Set(c.held.map((h) => h.id));
  const spent = c.ids.filter((id) => !claimed.has(id) && !heldIds.has(id));
  const parked: DeliverySettlement['parked'] = [];
  const paused: string[] = [];
  const back: { id: string; at: number }[] = [];
  for (const { id, hold } of c.held) {
    if (hold.reason === 'key_limit' && c.parks) parked.push({ id, key: hold.key });
    else if (hold.reason === 'paused') paused.push(id);
    else back.push({ id, at: hold.reason === 'rate_limit' ? hold.until : c.now + c.retryMs });
  }
  spent.push(...parked.map((p) => p.id));
  const handBack =
    back.length === 0
      ? null
      : { ids: back.map((b) => b.id), at: Math.min(...back.map((b) => b.at)) };
  return { spent, parked, paused, handBack };
}
