import type { Assignment, GafferMessage } from '../../worker/protocol.ts';
import { createFeed } from '../../worker/assemble.ts';
import type { JobHandler } from '../../worker/handler.ts';
import { runHandler } from '../../worker/handler-runner.ts';
import { WorkerRuntime, type WorkerLink } from '../../worker/runtime.ts';
import { withDataStaging } from '../../worker/staged-runner.ts';
import type { Executor, ExecutorHooks, StartRequest } from '../executor.ts';
import { linkPair } from './link.ts';

/**
 * Workers that run in gaffer's own process: the worker loop (src/worker/runtime.ts) — claims,
 * leases, heartbeats, timeouts, cancellation, data staging, broker feeds, all unchanged — over an
 * in-memory link instead of an IPC channel, calling a function given in code instead of loading a
 * module. This is what the library's `jobs` run on (src/library/).
 *
 * The trade, stated in docs/library.md: no process boundary. A handler that throws fails its job
 * as any handler does, but one that crashes the process (or blocks the event loop) takes gaffer
 * with it, and its memory is gaffer's. A job whose last attempt died with its worker is
 * "isolated" in a sandbox process by process workers; a function has no module to load there, so
 * here it runs like any other job. Killing a worker is draining it, then after the grace aborting
 * its jobs; a handler that ignores its abort makes the worker exit after `killGraceMs`, as in a
 * process, and gaffer retries its job — but the function's code may still be running.
 */
export interface InProcessOptions {
  /** The function of a type given in code; undefined for any other type. */
  handler(type: string): JobHandler | undefined;
  hooks: ExecutorHooks;
}

interface Running {
  runtime: WorkerRuntime;
  exited: Promise<void>;
  killTimer: ReturnType<typeof setTimeout> | undefined;
}

export function createInProcessExecutor(options: InProcessOptions): Executor {
  const { hooks } = options;
  const running = new Map<string, Running>();

  async function start(req: StartRequest): Promise<void> {
    const handler = options.handler(req.spec.type);
    if (!handler) {
      hooks.exited(req.workerId, null, null); // nothing was started: it is gone already
      throw new Error(`job type ${req.spec.type} has no handler in code`);
    }
    const pair = linkPair();
    const link = withoutIsolation(pair.worker);
    let feed: Awaited<ReturnType<typeof createFeed>>;
    try {
      feed = await createFeed(req.spec, link); // broker mode: connects to the broker
    } catch (err) {
      hooks.exited(req.workerId, null, null); // as a worker process that could not connect
      throw err;
    }
    const exited = Promise.withResolvers<void>();
    const runner = { inProcess: true, run: runHandler.bind(null, handler) };
    const runtime = new WorkerRuntime({
      workerId: req.workerId,
      spec: req.spec,
      ...(req.jobId ? { jobId: req.jobId } : {}),
      link: feed ? feed.link : link,
      runner: withDataStaging(runner, req.spec),
      exit: (code) => {
        void (feed?.close() ?? Promise.resolve()).finally(() => {
          const w = running.get(req.workerId);
          clearTimeout(w?.killTimer);
          running.delete(req.workerId);
          pair.close();
          hooks.exited(req.workerId, code, null);
          exited.resolve();
        });
      },
    });
    running.set(req.workerId, { runtime, exited: exited.promise, killTimer: undefined });
    // pid null: the worker has no process of its own (per-worker CPU and memory are gaffer's).
    hooks.connected(req.workerId, pair.gaffer, null);
    runtime.start();
    await feed?.start();
  }

  /** A process's SIGTERM then SIGKILL: drain now, abort whatever still runs after the grace. */
  function kill(workerId: string, graceMs = 5000): void {
    const w = running.get(workerId);
    if (!w || w.killTimer) return;
    w.runtime.drain();
    w.killTimer = setTimeout(() => w.runtime.shutdown(), graceMs);
  }

  /**
   * gaffer is stopping: as a worker process told to stop (SIGINT), every job is aborted now and
   * the loop exits once all have settled; gaffer hands those jobs back to the queue.
   */
  async function close(): Promise<void> {
    const all = [...running.values()];
    for (const w of all) w.runtime.stop();
    await Promise.all(all.map((w) => w.exited));
  }

  const canRun = (type: string) => options.handler(type) !== undefined;
  return { name: 'in-process', start, kill, close, canRun };
}

/** Drops `isolate` from assignments: there is no process to isolate a function in (see above). */
function withoutIsolation(link: WorkerLink): WorkerLink {
  const plain = (job: Assignment): Assignment => {
    const { isolate: _, ...rest } = job;
    return rest;
  };
  return {
    send: (msg) => link.send(msg),
    onMessage: (fn) =>
      link.onMessage((msg: GafferMessage) =>
        fn(msg.t === 'jobs' ? { ...msg, jobs: msg.jobs.map(plain) } : msg),
      ),
  };
}
