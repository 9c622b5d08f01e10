import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../config/load.ts';

/**
 * Where networked workers (and Kubernetes pool pods) reach gaffer, and the token they present at
 * /v1/workers/connect. The address is `executor.gafferUrl`, else the one the API listens at
 * (`listening`); workers started before it is known wait for it, and fail once gaffer stops
 * without having listened. The token is `server.workerToken`, or with the network transport and
 * none configured, a random one only the workers gaffer starts are given.
 */
export class WorkerAddress {
  readonly token: string | undefined;
  readonly #url = Promise.withResolvers<string>();

  constructor(config: Pick<ResolvedConfig, 'executor' | 'server'>) {
    const network = config.executor.transport === 'network';
    this.token =
      config.server.workerToken ?? (network ? randomBytes(24).toString('base64url') : undefined);
    this.#url.promise.catch(() => {}); // rejected by `stop` when gaffer never listened
    if (config.executor.gafferUrl) this.#url.resolve(config.executor.gafferUrl);
  }

  url(): Promise<string> {
    return this.#url.promise;
  }

  /** The API listens at `address` (ignored when `executor.gafferUrl` is set). */
  listening(address: string): void {
    this.#url.resolve(address);
  }

  stop(): void {
    this.#url.reject(new Error('gaffer stopped before its API listened'));
  }
}
