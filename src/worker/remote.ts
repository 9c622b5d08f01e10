import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brokerKindOf } from '../brokers/registry.ts';
import type { JobTypeConfig, StorageConfig } from '../config/schema.ts';
import { createFeed, createRunner } from './assemble.ts';
import { diagnose } from './diagnostic.ts';
import type { GafferMessage, WorkerMessage, WorkerSpec } from './protocol.ts';
import { WorkerRuntime, type WorkerLink } from './runtime.ts';

export interface RemoteWorkerOptions {
  /** gaffer's API, e.g. http://gaffer:8080. */
  url: string;
  /** The worker token (gaffer's `server.workerToken`). */
  token: string;
  type: string;
  /** Default: the type's concurrency. */
  concurrency?: number;
  workerId?: string;
  /** Broker mode: the broker's address (amqp://…, redis://…, or the embedded broker's file). */
  broker?: string;
  /** Per-job mode (a worker gaffer started for one job it claimed): run that job, then exit. */
  jobId?: string;
}

/**
 * A worker on another machine: it knows gaffer's address and the worker token, nothing else. It
 * reads its type's definition from the API, connects over a WebSocket and runs the same loop as a
 * local worker. Resolves with the exit code: 0 after a drain; non-zero when the link was lost
 * (its jobs are then retried by gaffer; a supervisor restarts the worker).
 */
export async function runRemoteWorker(o: RemoteWorkerOptions): Promise<number> {
  const spec = await fetchSpec(o);
  const socket = await connect(o);
  const direct: WorkerLink = {
    send: (msg: WorkerMessage) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
    },
    onMessage: (fn) =>
      socket.addEventListener('message', (e) => fn(JSON.parse(String(e.data)) as GafferMessage)),
  };
  const feed = await createFeed(spec, direct);
  const link = feed ? feed.link : direct;
  const runner = await createRunner(spec);
  return new Promise((resolve) => {
    // Set when the link closed before the worker finished: that is a failure, not a clean exit.
    let lost = false;
    const runtime = new WorkerRuntime({
      workerId: o.workerId ?? `${os.hostname()}-${process.pid}`,
      spec,
      ...(o.jobId ? { jobId: o.jobId } : {}),
      link,
      runner,
      exit: (code) => {
        socket.close();
        removeScratch(spec.scratchDir);
        void (feed?.close() ?? Promise.resolve()).finally(() =>
          resolve(lost && code === 0 ? 1 : code),
        );
      },
    });
    socket.addEventListener('close', (e) => {
      lost = true;
      if (e.code >= 4000) diagnose(`gaffer closed the connection: ${e.reason}`);
      runtime.shutdown();
    });
    process.once('SIGTERM', () => runtime.drain());
    // Stop now (gaffer's stop of a worker it started; Ctrl-C): jobs' trees killed, then exit.
    // Again: exit at once (the exit kills what is left of the jobs' groups: job-groups.ts).
    let interrupts = 0;
    process.on('SIGINT', () => (++interrupts > 1 ? process.exit(130) : runtime.stop()));
    runtime.start();
    void feed?.start();
  });
}

/** The worker's own scratch directory; its jobs have ended (or been killed) by the time it exits. */
function removeScratch(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // left for the OS's temp cleaning: never worth failing the exit over
  }
}

async function fetchSpec(o: RemoteWorkerOptions): Promise<WorkerSpec> {
  // With API keys on, /v1/config answers the worker token too (and no other route does).
  const res = await fetch(`${o.url}/v1/config`, {
    headers: { authorization: `Bearer ${o.token}` },
  });
  if (!res.ok) throw new Error(`GET /v1/config: ${res.status}`);
  const config = (await res.json()) as {
    jobTypes: Record<string, JobTypeConfig>;
    leases: { ttlMs: number };
    storage?: StorageConfig;
  };
  const type = config.jobTypes[o.type] as (JobTypeConfig & { queue: string }) | undefined;
  if (!type) throw new Error(`gaffer has no job type "${o.type}"`);
  if (!type.worker.command && !type.worker.handler) {
    throw new Error(`job type "${o.type}" has no command or handler to run here`);
  }
  return {
    type: o.type,
    mode: o.jobId ? 'per-job' : 'pool',
    concurrency: o.jobId ? 1 : (o.concurrency ?? type.concurrency),
    ...(type.worker.command ? { command: type.worker.command } : {}),
    ...(type.worker.handler ? { handler: type.worker.handler } : {}),
    env: type.worker.env,
    ...(type.worker.cwd ? { cwd: type.worker.cwd } : {}),
    scratchDir: mkdtempSync(path.join(os.tmpdir(), 'gaffer-worker-')),
    heartbeatMs: Math.max(50, Math.floor(config.leases.ttlMs / 3)),
    killGraceMs: 5000,
    ...(config.storage ? { storage: config.storage } : {}),
    ...(o.broker && !o.jobId
      ? { broker: { kind: brokerKindOf(o.broker), url: o.broker, queue: type.queue } }
      : {}),
  };
}

function connect(o: RemoteWorkerOptions): Promise<WebSocket> {
  const url = `${o.url.replace(/^http/, 'ws')}/v1/workers/connect`;
  // Node's WebSocket (undici) takes headers in its second argument, keeping the token out of URLs.
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${o.token}` } } as never);
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(socket), { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), {
      once: true,
    });
  });
}
