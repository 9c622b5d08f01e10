import { createFeed, createRunner } from './assemble.ts';
import { diagnose } from './diagnostic.ts';
import { WORKER_ENV, type GafferMessage, type WorkerMessage, type WorkerSpec } from './protocol.ts';
import { WorkerRuntime, type WorkerLink } from './runtime.ts';

/**
 * The worker process: `node src/worker/main.ts`, started by an executor with a Node IPC channel
 * and the WORKER_ENV variables. Lifecycle:
 * - SIGTERM is a drain: take nothing new, finish in-flight jobs, exit 0.
 * - SIGINT is gaffer's stop: every job's process tree is stopped now (SIGTERM, SIGKILL after
 *   killGraceMs), then the worker exits 0; gaffer hands those jobs back to the queue.
 * - The IPC channel closing means gaffer is gone: every job's process tree is killed (SIGTERM,
 *   SIGKILL after killGraceMs) before the worker exits, so no job outlives gaffer.
 */

/** EX_USAGE: started without an IPC channel or a valid spec. */
const EXIT_USAGE = 64;

/** Messages written to the channel and not yet acknowledged by the OS. */
let unsent = 0;
let flushed: (() => void) | null = null;

function ipcLink(): WorkerLink {
  const sent = (): void => {
    if (--unsent === 0) flushed?.();
  };
  return {
    send(msg: WorkerMessage) {
      if (!process.connected || !process.send) return;
      unsent++;
      process.send(msg, undefined, undefined, sent);
    },
    onMessage(fn: (msg: GafferMessage) => void) {
      process.on('message', fn as (msg: unknown) => void);
    },
  };
}

/** Exits once every message is written: closing the channel earlier could drop a `done`. */
function exitAfterFlush(code: number): void {
  if (unsent === 0 || !process.connected) process.exit(code);
  flushed = () => process.exit(code);
}

function readSpec(): WorkerSpec {
  const raw = process.env[WORKER_ENV.spec];
  if (!raw) throw new Error(`${WORKER_ENV.spec} is not set`);
  return JSON.parse(raw) as WorkerSpec;
}

async function main(): Promise<void> {
  if (!process.send) {
    diagnose('gaffer worker: must be started by gaffer, with an IPC channel');
    process.exit(EXIT_USAGE);
  }
  let spec: WorkerSpec;
  try {
    spec = readSpec();
  } catch (err) {
    diagnose(`gaffer worker: bad spec: ${String(err)}`);
    process.exit(EXIT_USAGE);
  }
  const feed = await createFeed(spec, ipcLink());
  const runtime = new WorkerRuntime({
    workerId: process.env[WORKER_ENV.workerId] ?? `worker-${process.pid}`,
    spec,
    jobId: process.env[WORKER_ENV.jobId] || undefined,
    link: feed ? feed.link : ipcLink(),
    runner: await createRunner(spec),
    exit: (code) => void (feed?.close() ?? Promise.resolve()).finally(() => exitAfterFlush(code)),
  });
  process.on('disconnect', () => runtime.shutdown());
  process.on('SIGTERM', () => runtime.drain());
  process.on('SIGINT', () => runtime.stop());
  if (!process.connected) return runtime.shutdown();
  runtime.start();
  await feed?.start();
}

await main();
