import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { JobTypeConfig } from '../../config/schema.ts';
import type { Executor, ExecutorHooks, StartRequest } from '../executor.ts';
import { LocalCapacity, machineCapacity } from './capacity.ts';
import {
  WORKER_ENV,
  type GafferMessage,
  type WorkerConnection,
  type WorkerMessage,
} from '../../worker/protocol.ts';
import { networkArgs, networkEnv, type NetworkTransport } from './network.ts';
import { killTree } from './process-tree.ts';
import { moduleFile } from '../../paths.ts';

/**
 * Runs workers as local child processes of gaffer, talking over Node's IPC channel — or, with
 * `network`, as `gaffer worker` processes that connect back over the API (see network.ts); the
 * route that accepts their connection hands it to the gateway, so `hooks.connected` is not called
 * from here then.
 *
 * Each worker leads its own process group (`detached`), so a kill reaches the worker and what it
 * runs in-process, and never gaffer itself. A kill is SIGTERM first (the worker drains), then,
 * after the grace, SIGKILL of the worker's whole tree, including its jobs' process groups.
 *
 * `close` (gaffer stops) is SIGINT instead: the worker stops its jobs now — each job's tree gets
 * SIGTERM, then SIGKILL after the job type's killGraceMs — and exits; a second later than that,
 * whatever is left of the worker's tree is SIGKILLed. Whichever way gaffer's process ends short of
 * SIGKILL (an uncaught error, `process.exit` before `close` finished), its 'exit' SIGKILLs every
 * worker tree still alive; a worker whose gaffer died by SIGKILL sees its IPC channel (or its
 * connection) close and kills its jobs' trees itself.
 */

export interface LocalProcessOptions {
  hooks: ExecutorHooks;
  /** The worker program; defaults to gaffer's worker/main module. */
  workerEntry?: string;
  /** Added to every worker's environment. */
  env?: Record<string, string>;
  /** Start workers that connect over the network instead of an IPC channel. */
  network?: NetworkTransport;
  /**
   * A job type's definition as configured now: which types it can run (a command or a handler)
   * and what one worker takes (`worker.resources`). Absent: it runs every type, unlimited.
   */
  jobType?(name: string): JobTypeConfig | undefined;
  /** This machine's share for the workers (`executor.local`). Default: its CPUs and memory. */
  local?: { cpus?: string; memory?: string };
}

const DEFAULT_ENTRY = moduleFile('worker/main');
const DEFAULT_GRACE_MS = 5000;
/** On close, how much longer than the worker's own kill grace gaffer waits before SIGKILL. */
const STOP_MARGIN_MS = 1000;
/** After the worker exits, how long its stdout/stderr may stay open (held by an escaped child). */
const OUTPUT_DRAIN_MS = 1000;

interface Worker {
  child: ChildProcess;
  /** The job type's killGraceMs: how long the worker gives a stopped job's tree after SIGTERM. */
  killGraceMs: number;
  exited: Promise<void>;
  gone: boolean;
  /** When the pending SIGKILL is due (performance.now() ms), if a kill was asked. */
  killAt: number | null;
  killTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Every worker process of this gaffer not yet exited (all executors): see `killAlive`. */
const alive = new Set<number>();
let exitHooked = false;

/** gaffer's process is exiting: no worker tree may outlive it. Synchronous, as 'exit' needs. */
function killAlive(): void {
  for (const pid of alive) killTree(pid);
  alive.clear();
}

export function createLocalProcessExecutor(options: LocalProcessOptions): Executor {
  const jobType = options.jobType ?? (() => undefined);
  const capacity = new LocalCapacity(
    machineCapacity(options.local ?? {}),
    (type) => jobType(type)?.worker.resources,
  );
  // The workers it started hold their share until they are gone.
  const hooks: ExecutorHooks = {
    ...options.hooks,
    exited(workerId, code, signal) {
      capacity.exited(workerId);
      options.hooks.exited(workerId, code, signal);
    },
  };
  const entry = options.workerEntry ?? DEFAULT_ENTRY;
  const workers = new Map<string, Worker>();
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', killAlive);
  }

  function start(req: StartRequest): Promise<void> {
    capacity.started(req.workerId, req.spec.type, req.job?.resources ?? null);
    return options.network ? startNetworked(req, options.network) : startWithIpc(req);
  }

  function startWithIpc(req: StartRequest): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      [WORKER_ENV.workerId]: req.workerId,
      [WORKER_ENV.type]: req.spec.type,
      [WORKER_ENV.spec]: JSON.stringify(req.spec),
    };
    if (req.jobId) env[WORKER_ENV.jobId] = req.jobId;
    else delete env[WORKER_ENV.jobId];
    const child = spawn(process.execPath, [entry], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
      env,
    });
    return spawned(req, child, () => hooks.connected(req.workerId, connection(child), child.pid!));
  }

  /** No IPC channel: the worker connects to gaffer's API itself, named by its worker id. */
  async function startNetworked(req: StartRequest, net: NetworkTransport): Promise<void> {
    let url: string;
    try {
      url = await net.gafferUrl();
    } catch (err) {
      hooks.exited(req.workerId, null, null); // no process was started: it is gone already
      throw err;
    }
    const child = spawn(process.execPath, networkArgs(req, url), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: networkEnv(process.env, net, options.env),
    });
    return spawned(req, child, () => {});
  }

  function spawned(req: StartRequest, child: ChildProcess, onSpawn: () => void): Promise<void> {
    track(req.workerId, child, req.spec.killGraceMs);
    if (child.pid === undefined) {
      // Spawning failed; 'error' follows, then 'close' (which reports the exit).
      return new Promise((_, reject) => child.once('error', reject));
    }
    onSpawn();
    return Promise.resolve();
  }

  function track(workerId: string, child: ChildProcess, killGraceMs: number): void {
    if (child.pid !== undefined) alive.add(child.pid);
    pipeLines(child.stdout, (line) => hooks.output(workerId, 'stdout', line));
    pipeLines(child.stderr, (line) => hooks.output(workerId, 'stderr', line));
    child.on('error', () => {}); // spawn failures reject start(); a failed send is a lost worker
    let exit: { code: number | null; signal: string | null } = { code: null, signal: null };
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (child.pid !== undefined) alive.delete(child.pid);
      // Normally stdout/stderr close right after; a process that escaped the tree may hold them.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, OUTPUT_DRAIN_MS).unref();
    });
    const worker: Worker = {
      child,
      killGraceMs,
      exited: Promise.resolve(),
      gone: false,
      killAt: null,
      killTimer: undefined,
    };
    worker.exited = new Promise<void>((resolve) => {
      child.once('close', () => {
        clearTimeout(worker.killTimer);
        worker.gone = true;
        if (workers.get(workerId) === worker) workers.delete(workerId);
        hooks.exited(workerId, exit.code, exit.signal);
        resolve();
      });
    });
    workers.set(workerId, worker);
  }

  function kill(workerId: string, graceMs = DEFAULT_GRACE_MS): void {
    signalThenKill(workerId, 'SIGTERM', graceMs);
  }

  /** `signal` to the worker's group now, its whole tree SIGKILLed after `graceMs`. */
  function signalThenKill(workerId: string, signal: NodeJS.Signals, graceMs: number): void {
    const w = workers.get(workerId);
    const pid = w?.child.pid;
    if (!w || w.gone || pid === undefined) return;
    // A drain (SIGTERM) is asked once; gaffer's stop (SIGINT) always: a draining worker's jobs
    // must stop now too.
    if (w.killAt === null || signal === 'SIGINT') signalGroup(pid, signal);
    const killAt = performance.now() + graceMs;
    if (w.killAt !== null && w.killAt <= killAt) return; // already dying at least as soon
    w.killAt = killAt;
    clearTimeout(w.killTimer);
    w.killTimer = setTimeout(() => killTree(pid), graceMs);
  }

  /** gaffer stops: every worker stops its jobs now and exits (see above); resolves once all are gone. */
  async function close(): Promise<void> {
    const all = [...workers.entries()];
    for (const [id, w] of all) signalThenKill(id, 'SIGINT', w.killGraceMs + STOP_MARGIN_MS);
    await Promise.all(all.map(([, w]) => w.exited));
  }

  return {
    name: 'local-process',
    start,
    kill,
    close,
    canRun(type) {
      if (!options.jobType) return true;
      const worker = jobType(type)?.worker;
      return Boolean(worker?.command || worker?.handler);
    },
    room: (type) => capacity.room(type),
    isLocal: (workerId) => capacity.has(workerId),
    localCapacity: () => capacity.capacity,
  };
}

/** The worker's IPC channel as a WorkerConnection. */
function connection(child: ChildProcess): WorkerConnection {
  return {
    send(msg: GafferMessage) {
      if (child.connected) child.send(msg);
    },
    onMessage(fn: (msg: WorkerMessage) => void) {
      child.on('message', fn as (msg: unknown) => void);
    },
    onClose(fn: () => void) {
      if (child.connected) child.once('disconnect', fn);
      else queueMicrotask(fn);
    },
  };
}

function pipeLines(stream: Readable | null, fn: (line: string) => void): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', fn);
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: already gone.
  }
}
