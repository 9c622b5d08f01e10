import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { connectionSetup, type OpenOptions } from './schema.ts';
import type { Step } from './insert.ts';

/**
 * Bulk inserts on a worker thread with its own connection to the same WAL database, so the main
 * thread parses and validates an upload's next chunk while this one is inserted and committed.
 * `run` settles after the steps' transaction committed (or rolled back, rejecting): a caller
 * acknowledges nothing before its commit. Requests run one at a time in the order made. The main
 * thread's own writes (claims, completions) meet the thread's transactions through SQLite's lock:
 * either waits up to busy_timeout for the other (schema.ts). Starts at the first request.
 */
export class InsertThread {
  readonly #options: OpenOptions;
  #worker: Worker | undefined;
  readonly #pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  #seq = 0;

  constructor(options: OpenOptions) {
    this.#options = options;
  }

  /** Runs the steps in one transaction on the thread (see insert-worker.mjs). */
  run(steps: readonly Step[]): Promise<void> {
    const worker = this.#worker ?? this.#start();
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, steps });
    });
  }

  /** Waits for every request made so far to settle, then closes the thread's connection. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    const exited = once(worker, 'exit');
    worker.postMessage({ close: true }); // handled after every earlier request
    await exited;
  }

  #start(): Worker {
    const worker = new Worker(new URL('./insert-worker.mjs', import.meta.url), {
      workerData: { path: this.#options.path, setup: connectionSetup(this.#options) },
      // A small heap: the thread holds one request at a time (the bound values of ~1,000 jobs).
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (!pending) return;
      if (reply.error) pending.reject(Object.assign(new Error(reply.error.message), reply.error));
      else pending.resolve();
    });
    // A thread that died (an error outside a request, out of memory) fails what it held, and the
    // next request starts a new one. An open transaction died with its connection: rolled back.
    worker.on('error', (err) => this.#failAll(worker, err));
    worker.on('exit', (code) =>
      this.#failAll(worker, new Error(`the insert thread exited (code ${code})`)),
    );
    this.#worker = worker;
    return worker;
  }

  #failAll(worker: Worker, err: Error): void {
    if (this.#worker === worker) this.#worker = undefined;
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
  }
}

interface Reply {
  id: number;
  error?: { message: string; code?: unknown; errcode?: unknown; errstr?: unknown };
}
