import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Executor, ExecutorHooks, StartRequest } from '../../src/executors/executor.ts';

/**
 * What the contract observes of one executor. `hooks` is what the executor was given (the
 * subject built it with `HookLog.wrap`); `connected` and `exited` resolve when gaffer learns of
 * the worker's connection and its exit — from the hooks, or for a worker that connects over the
 * network from the API's connect route, whose close reports the exit too (the gateway counts the
 * first report, so gaffer's record of an exit is one `worker:stopped`).
 */
export interface ExecutorSubject {
  executor: Executor;
  log: HookLog;
  /** A start request for a new worker of `types.runnable` (registered with gaffer if need be). */
  request(workerId: string): StartRequest;
  /** Resolves once the worker's connection is up. */
  connected(workerId: string): Promise<void>;
  /** Resolves once gaffer has recorded the worker's exit. */
  exited(workerId: string): Promise<void>;
  /** How many exits gaffer recorded for the worker (the contract: exactly one). */
  exits(workerId: string): number;
  types: {
    /** A type it can run. */
    runnable: string;
    /** A type it cannot run (absent: it runs every type). */
    notRunnable?: string;
    /** A type whose workers its `room` counts one each (absent: room is not counted here). */
    counted?: string;
  };
  /**
   * Why its `close` leaves the workers running, when by design they outlive gaffer (a Kubernetes
   * pool's pods reconnect to the next gaffer); absent: close ends every worker.
   */
  closeKeeps?: string;
  close(): Promise<void>;
}

/** Records what an executor reports through its hooks, forwarding to `inner` if given. */
export class HookLog {
  readonly connects = new Map<string, number>();
  readonly exitCalls = new Map<string, number>();
  readonly #waiters = new Set<() => void>();

  wrap(inner?: ExecutorHooks): ExecutorHooks {
    return {
      connected: (id, conn, pid) => {
        this.#bump(this.connects, id);
        inner?.connected(id, conn, pid);
      },
      output: (id, stream, data) => inner?.output(id, stream, data),
      exited: (id, code, signal) => {
        this.#bump(this.exitCalls, id);
        inner?.exited(id, code, signal);
      },
      waiting: (id, block) => inner?.waiting?.(id, block),
      retire: (id) => inner?.retire?.(id) ?? false,
    };
  }

  /** Resolves once `check` holds, re-checked at every hook call. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const fn = () => {
        if (!check()) return;
        this.#waiters.delete(fn);
        resolve();
      };
      this.#waiters.add(fn);
    });
  }

  #bump(map: Map<string, number>, id: string): void {
    map.set(id, (map.get(id) ?? 0) + 1);
    for (const fn of [...this.#waiters]) fn();
  }
}

/**
 * The Executor contract (src/executors/executor.ts) for one implementation: start resolves once
 * the process exists, the connection comes up, the exit is recorded exactly once whatever ended
 * the worker (a kill, a second kill, gaffer's close), `close` ends every worker, and each
 * capability answers as documented or is absent (its default). `make` gives a fresh subject.
 */
export function describeExecutorContract(
  name: string,
  make: () => Promise<ExecutorSubject>,
  options: { timeout?: number; skip?: string | false } = {},
): void {
  const opts = { timeout: options.timeout ?? 120_000 };
  describe(`Executor contract: ${name}`, { skip: options.skip ?? false }, () => {
    test(
      'start resolves once the process exists; then its connection comes up',
      opts,
      async (t) => {
        const s = await make();
        t.after(() => s.close());
        await s.executor.start(s.request('w-start'));
        await s.connected('w-start');
        assert.equal(s.exits('w-start'), 0, 'a started worker has not exited');
      },
    );

    test(
      'kill ends the worker; its exit is recorded once; kill again is a no-op',
      opts,
      async (t) => {
        const s = await make();
        t.after(() => s.close());
        await s.executor.start(s.request('w-kill'));
        await s.connected('w-kill');
        s.executor.kill('w-kill', 200);
        s.executor.kill('w-kill', 200);
        await s.exited('w-kill');
        s.executor.kill('w-kill', 200);
        s.executor.kill('never-started', 200);
        await s.close();
        assert.equal(s.exits('w-kill'), 1);
        assert.ok((s.log.exitCalls.get('w-kill') ?? 0) <= 1, 'the executor reports an exit once');
      },
    );

    test('close ends every worker and resolves once they are gone', opts, async (t) => {
      const s = await make();
      t.after(() => s.close());
      const ids = ['w-close-1', 'w-close-2'];
      for (const id of ids) await s.executor.start(s.request(id));
      for (const id of ids) await s.connected(id);
      await s.executor.close();
      if (s.closeKeeps) {
        const kept = ids.map((id) => s.exits(id));
        assert.deepEqual(kept, [0, 0], `close leaves them running: ${s.closeKeeps}`);
        return;
      }
      for (const id of ids) await s.exited(id);
      assert.deepEqual(
        ids.map((id) => s.exits(id)),
        [1, 1],
      );
    });

    test('capabilities answer as documented', opts, async (t) => {
      const s = await make();
      t.after(() => s.close());
      const e = s.executor;
      const { runnable, notRunnable, counted } = s.types;
      await (e.ready?.() ?? Promise.resolve());
      assert.equal(e.canRun?.(runnable) ?? true, true, 'it can run its runnable type');
      if (notRunnable) assert.equal(e.canRun?.(notRunnable), false, 'not the other');
      const room = e.room?.(runnable) ?? null;
      assert.ok(room === null || (Number.isInteger(room) && room >= 0), `room: ${room}`);
      for (const wanted of [0, 1, 5]) {
        const admitted = e.admit?.(runnable, wanted) ?? wanted;
        assert.ok(Number.isInteger(admitted) && admitted >= 0 && admitted <= wanted);
      }
      assert.ok(Array.isArray(e.unboundWorkers?.(runnable) ?? []));
      const capacity = e.localCapacity?.() ?? null;
      assert.ok(capacity === null || (capacity.cpu > 0 && capacity.memory > 0));

      const type = counted ?? runnable;
      const before = e.room?.(type) ?? null;
      const req = s.request('w-caps');
      await e.start(counted ? { ...req, spec: { ...req.spec, type: counted } } : req);
      await s.connected('w-caps');
      const isLocal = e.isLocal?.('w-caps') ?? false;
      if (counted) assert.equal(e.room?.(type), before! - 1, 'room counts the started worker');
      e.kill('w-caps', 200);
      await s.exited('w-caps');
      assert.equal(e.isLocal?.('w-caps') ?? false, false, 'a gone worker is not local');
      if (counted) assert.equal(e.room?.(type), before, 'an exited worker holds nothing');
      assert.equal(typeof isLocal, 'boolean');
      assert.equal(e.isLocal?.('never-started') ?? false, false);
    });
  });
}
