import type { Clock } from '../domain/clock.ts';
import type { GafferEvents } from '../domain/events.ts';

/**
 * Jobs finished per type over the last minute, counted in one-second buckets (memory bounded
 * whatever the rate): the `job_processing_rate` metric, and the pace a queued job's estimated
 * start is computed from. In memory, per gaffer process.
 */
export class Throughput {
  readonly #clock: Clock;
  readonly #perSecond = new Map<string, Map<number, number>>();

  constructor(events: GafferEvents, clock: Clock) {
    this.#clock = clock;
    const ended = ({ job }: { job: { type: string } }) => this.#record(job.type);
    events.on('job:succeeded', ended);
    events.on('job:failed', ended);
    events.on('job:cancelled', ({ job }) => {
      if (job.state === 'cancelled') ended({ job });
    });
  }

  /** Jobs of `type` that ended in the last 60 s. */
  perMinute(type: string): number {
    const counts = this.#perSecond.get(type);
    if (!counts) return 0;
    const since = Math.floor(this.#clock.now() / 1000) - 60;
    let total = 0;
    for (const [second, n] of counts) {
      if (second <= since) counts.delete(second);
      else total += n;
    }
    return total;
  }

  types(): string[] {
    return [...this.#perSecond.keys()];
  }

  #record(type: string): void {
    const second = Math.floor(this.#clock.now() / 1000);
    const counts = this.#perSecond.get(type) ?? new Map<number, number>();
    counts.set(second, (counts.get(second) ?? 0) + 1);
    this.#perSecond.set(type, counts);
  }
}
