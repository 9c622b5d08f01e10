import type { ResolvedConfig } from '../config/load.ts';
import { keyOf, type Hold, type KeyLimit } from '../domain/flow.ts';
import type { Job } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { JobRecords } from '../store/roles/job-records.ts';

/**
 * Broker mode under a key's running limit: a delivered job whose key is full is parked here, not
 * handed back to the broker. Handing it back would block the queue's head: the broker gives the
 * same messages out again (RabbitMQ and the embedded broker requeue at the head), each held in a
 * worker's prefetch slot meanwhile, so a big key's backlog would stand between the workers and
 * every other key's jobs (head-of-line blocking). Parked instead, its message is spent at once,
 * and the worker's slot takes the next message.
 *
 * Invariant (4, every queued job runs): a due queued job has a message, or its key is at its
 * running limit and the job is parked — on this replica, or spent by another replica's worker.
 * Its key frees a slot only when one of its jobs leaves flight (ends, is retried, handed back);
 * each such event seen here publishes the key's oldest parked job again (`ended`). One seen on
 * another replica is not: there the republish check publishes the due jobs without a message
 * whose key has room again (`startable`, jobs/republish.ts) — never one whose key is full, so a
 * parked backlog costs no claims while it waits.
 *
 * A key limit that counts starts (`keyLimit.starts`) frees its slots on a clock, not on an end:
 * its held deliveries are handed back after a delay (delivery-claims.ts).
 */
export interface KeyParkingDeps {
  /** The type's key limit in force. */
  keyLimit(type: string): KeyLimit | undefined;
  /** Publishes these jobs again (those still queued); a failure is the republish check's. */
  publish(ids: readonly string[]): void;
}

export class KeyParking {
  readonly #d: KeyParkingDeps;
  /** Per type, per key: the parked job ids, oldest first. */
  readonly #parked = new Map<string, Map<string, Set<string>>>();
  /** Per type: how many of its jobs left flight here; a claim compares it before and after. */
  readonly #ends = new Map<string, number>();

  constructor(deps: KeyParkingDeps) {
    this.#d = deps;
  }

  /** Whether the type parks its key-held deliveries: a running limit without a starts window. */
  parks(type: string): boolean {
    const limit = this.#d.keyLimit(type);
    return limit !== undefined && limit.starts === undefined;
  }

  /** The jobs of `type` that left flight so far: read before a claim, passed to `park` after. */
  ends(type: string): number {
    return this.#ends.get(type) ?? 0;
  }

  /**
   * Parks delivered jobs held by their key. `seen`: `ends(type)` before the claim — when a job of
   * the type left flight since, its key may have room the claim did not see, and the jobs are
   * published again at once rather than parked (where no later end might release them).
   */
  park(type: string, held: readonly { id: string; key: string }[], seen: number): void {
    if (held.length === 0) return;
    if (this.ends(type) !== seen) return this.#d.publish(held.map((h) => h.id));
    let keys = this.#parked.get(type);
    if (!keys) this.#parked.set(type, (keys = new Map()));
    for (const { id, key } of held) {
      let ids = keys.get(key);
      if (!ids) keys.set(key, (ids = new Set()));
      ids.add(id);
    }
  }

  /**
   * A job left flight here (ended, retried, handed back, cancelled): it is parked no more, and its
   * key's oldest parked job is published again for the slot it freed.
   */
  ended(job: Pick<Job, 'id' | 'type' | 'payload' | 'attributes'>): void {
    const limit = this.#d.keyLimit(job.type);
    if (!limit) return;
    this.#ends.set(job.type, this.ends(job.type) + 1);
    const keys = this.#parked.get(job.type);
    const key = keyOf(limit.key, job);
    const ids = keys?.get(key);
    if (!keys || !ids) return;
    ids.delete(job.id);
    const [next] = ids;
    if (next !== undefined) ids.delete(next);
    if (ids.size === 0) keys.delete(key);
    if (keys.size === 0) this.#parked.delete(job.type);
    if (next !== undefined) this.#d.publish([next]);
  }

  /** Parked jobs, all types (for tests and the log). */
  get size(): number {
    let n = 0;
    for (const keys of this.#parked.values()) for (const ids of keys.values()) n += ids.size;
    return n;
  }

  /**
   * The jobs the republish check may publish: of a type that parks, those whose key has room now
   * (`flowHold` is asked once per key); of any other type, all.
   */
  async startable(
    type: string,
    jobs: readonly Job[],
    flowHold: (job: Job) => Promise<Hold | null>,
  ): Promise<Job[]> {
    const limit = this.#d.keyLimit(type);
    if (!limit || !this.parks(type)) return [...jobs];
    const out: Job[] = [];
    for (const group of Map.groupBy(jobs, (j) => keyOf(limit.key, j)).values()) {
      if ((await flowHold(group[0]!))?.reason !== 'key_limit') out.push(...group);
    }
    return out;
  }
}

/**
 * The parking of a gaffer in broker mode (null without a broker): a parked job is published again
 * as it stands in the store, if it is still queued; a publish that fails is logged, and the
 * republish check publishes the job once its key has room.
 */
export function brokerParking(d: {
  config: Pick<ResolvedConfig, 'broker'>;
  keyLimit(type: string): KeyLimit | undefined;
  jobs: Pick<JobRecords, 'get'>;
  publish(jobs: readonly Job[]): Promise<void>;
  log: Pick<Logger, 'error'>;
}): KeyParking | null {
  if (d.config.broker.kind === 'none') return null;
  const publish = async (ids: readonly string[]) => {
    const jobs = await Promise.all(ids.map((id) => d.jobs.get(id)));
    await d.publish(jobs.filter((j): j is Job => j?.state === 'queued'));
  };
  return new KeyParking({
    keyLimit: d.keyLimit,
    publish: (ids) =>
      void publish(ids).catch((err: unknown) =>
        d.log.error({ err, jobs: ids }, 'publishing parked jobs again failed'),
      ),
  });
}
