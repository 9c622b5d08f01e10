import type { Broker } from '../brokers/broker.ts';
import { createBroker } from '../brokers/registry.ts';
import type { ResolvedConfig } from '../config/load.ts';
import type { TimedClock, Timer } from '../domain/clock.ts';
import type { Job } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { JobStore } from '../store/job-store.ts';
import type { Catalog } from './catalog.ts';
import { republishMissing } from './republish.ts';
import { brokerRef } from './worker-spec.ts';

/**
 * Between the store (the truth) and the broker (delivery of job ids), invariant 4: every queued
 * job has a message, or gets one. At connect every type's queue is declared and every queued job
 * published (messages lost while gaffer was down are replaced; a duplicate is harmless, since a
 * claim of a job that is not queued is refused); a retry is published when it falls due; a new
 * queue is declared before its first job can be published; `republishMissing` publishes the
 * deficit of due jobs the broker holds no ready message for (jobs/republish.ts). Without a broker
 * only the retry timers remain: a due retry wakes its type's claims and the autoscaler.
 *
 * The broker carries only due jobs: a job whose runAt is ahead (a delayed submission) is not
 * published at submit, at connect or on a requeue, but by the due sweep (`publishDue`, run before
 * each republish pass on the reconciler's clock): the delayed jobs that fell due since the last
 * sweep, read from the store by (runAt, id) pages — no timer per delayed job, and nothing lost to
 * a restart, since the store holds them and connect publishes every job due by then.
 */
export interface BrokerBridgeDeps {
  config: Pick<ResolvedConfig, 'store' | 'broker'>;
  store: Pick<JobStore, 'list' | 'queueStats' | 'readyJobs' | 'becameDue'>;
  catalog(): Pick<Catalog, 'names' | 'type'>;
  /** Reads the time and schedules the retry timers. */
  clock: Pick<TimedClock, 'now' | 'after'>;
  /** A retried job is due: wake its type's waiting claims and the autoscaler. */
  due(type: string): void;
  /** The republish check's filter of a type's candidates (jobs/republish.ts); absent: all. */
  startable?(type: string, jobs: readonly Job[]): Promise<Job[]>;
  log: Pick<Logger, 'error'>;
}

/** Delayed jobs read per store query by the due sweep. */
const DUE_PAGE = 1000;

export class BrokerBridge {
  readonly #d: BrokerBridgeDeps;
  #broker: Broker | null = null;
  readonly #timers = new Set<Timer>();
  /** The due sweep's window starts after this time: jobs due by then were published already. */
  #dueSince = 0;

  constructor(deps: BrokerBridgeDeps) {
    this.#d = deps;
  }

  async connect(): Promise<void> {
    const ref = brokerRef(this.#d.config, '');
    if (!ref) return;
    this.#broker = await createBroker(ref);
    this.#dueSince = this.#d.clock.now();
    const catalog = this.#d.catalog();
    for (const name of catalog.names()) await this.#broker.declare(catalog.type(name)!.queue);
    let cursor: string | undefined;
    do {
      const page = await this.#d.store.list({
        state: 'queued',
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      await this.publish(page.jobs);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** The queues of `next` that `previous` did not have, declared before `next` is in force. */
  async declareNew(previous: Pick<Catalog, 'type'>, next: Pick<Catalog, 'names' | 'type'>) {
    if (!this.#broker) return;
    for (const name of next.names()) {
      const queue = next.type(name)!.queue;
      if (previous.type(name)?.queue !== queue) await this.#broker.declare(queue);
    }
  }

  /** Publishes the jobs that are due now; the others wait for the due sweep (`publishDue`). */
  async publish(jobs: readonly Job[]): Promise<void> {
    if (!this.#broker || jobs.length === 0) return;
    const now = this.#d.clock.now();
    await this.#send(jobs.filter((j) => j.runAt <= now));
  }

  async #send(jobs: readonly Job[]): Promise<void> {
    if (!this.#broker || jobs.length === 0) return;
    for (const [queue, list] of Map.groupBy(jobs, (j) => j.queue)) {
      const messages = list.map((j) => ({ jobId: j.id, priority: j.priority }));
      await this.#broker.publish(queue, messages);
    }
  }

  /**
   * The due sweep: publishes every delayed job that fell due since the last sweep (or connect),
   * each type's in pages of DUE_PAGE. Returns how many. A job published twice (a retry timer and
   * this sweep, a new leader's first sweep) is harmless: a claim of a job not queued is refused.
   */
  async publishDue(): Promise<number> {
    if (!this.#broker) return 0;
    const upTo = this.#d.clock.now();
    const since = this.#dueSince;
    const catalog = this.#d.catalog();
    let sent = 0;
    for (const type of catalog.names()) {
      let after = { runAt: since, id: '\uffff' };
      for (;;) {
        const page = await this.#d.store.becameDue(type, after, upTo, DUE_PAGE);
        await this.#send(page);
        sent += page.length;
        if (page.length < DUE_PAGE) break;
        const last = page.at(-1)!;
        after = { runAt: last.runAt, id: last.id };
      }
    }
    this.#dueSince = upTo;
    return sent;
  }

  /**
   * Returns how many jobs were published again (0 without a broker): first the due sweep, then the
   * deficit of due jobs without a ready message (which the sweep's messages now count against).
   */
  async republishMissing(): Promise<number> {
    const broker = this.#broker;
    if (!broker) return 0;
    const due = await this.publishDue();
    const deps = {
      store: this.#d.store,
      queueOf: (type: string) => this.#d.catalog().type(type)?.queue,
      brokerReady: async (queue: string) => (await broker.stats(queue)).ready,
      publish: (jobs: readonly Job[]) => this.publish(jobs),
      ...(this.#d.startable ? { startable: this.#d.startable } : {}),
    };
    const { clock, config } = this.#d;
    return due + (await republishMissing(deps, clock.now(), config.broker.republishAfterMs));
  }

  /** A retried job (`job:retrying`): published, and its type woken, once its `runAt` is due. */
  retrying(job: Job): void {
    const t = this.#d.clock.after(Math.max(0, job.runAt - this.#d.clock.now()), () => {
      this.#timers.delete(t);
      void this.#send([job]).catch((err: unknown) =>
        this.#d.log.error({ err, job: job.id }, 'republishing a retried job failed'),
      );
      this.#d.due(job.type);
    });
    this.#timers.add(t);
  }

  /** No more retry timers (gaffer is stopping: the next start publishes what is queued). */
  stop(): void {
    for (const t of this.#timers) t.cancel();
  }

  async close(): Promise<void> {
    this.stop();
    await this.#broker?.close();
  }
}
