import { GafferError } from '../../errors.ts';

export interface FailedAuthLimit {
  max: number;
  timeWindowMs: number;
}

/**
 * Failed authentications per client address in fixed windows (`auth.failedAuthLimit`), for both
 * APIs: the HTTP API (plugin.ts, session login in routes.ts) and the gRPC server. Once a client has
 * failed `max` times in a window, its attempts are refused GAFFER_RATE_LIMITED until the window
 * ends, valid key or not, so keys cannot be guessed at line speed. Hand-written: @fastify/rate-limit
 * only hooks into Fastify, and a counter per address is all this needs. Memory is bounded by the
 * addresses that failed within one window. Time is the orchestrator's clock (`now`).
 */
export class FailedAuthLimiter {
  readonly #limit: () => FailedAuthLimit;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; failures: number }>();

  constructor(limit: () => FailedAuthLimit, now: () => number) {
    this.#limit = limit;
    this.#now = now;
  }

  /**
   * Throws GAFFER_RATE_LIMITED while `client` is over its limit, with `details.retryAfterSeconds`
   * (at least 1) for a Retry-After.
   */
  check(client: string): void {
    const w = this.#current(client);
    if (w && w.failures >= this.#limit().max) {
      const seconds = Math.ceil((w.start + this.#limit().timeWindowMs - this.#now()) / 1000);
      const retryAfterSeconds = Math.max(1, seconds);
      throw new GafferError(
        'GAFFER_RATE_LIMITED',
        `too many failed authentications from ${client}; retry in ${retryAfterSeconds} s`,
        { details: { retryAfterSeconds } },
      );
    }
  }

  /** Counts one failed authentication from `client`. */
  failed(client: string): void {
    const now = this.#now();
    const w = this.#current(client) ?? { start: now, failures: 0 };
    w.failures++;
    this.#windows.set(client, w);
    if (this.#windows.size > 1000) this.#prune();
  }

  #current(client: string) {
    const w = this.#windows.get(client);
    if (w && this.#now() - w.start >= this.#limit().timeWindowMs) {
      this.#windows.delete(client);
      return undefined;
    }
    return w;
  }

  #prune(): void {
    for (const client of [...this.#windows.keys()]) this.#current(client);
  }
}
