import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { parseConfig } from '../src/config/load.ts';
import type { Orchestrator } from '../src/orchestrator.ts';
import { inLanes, perSecond, procCpuMs, round } from './lib.ts';

/**
 * What the harness needs of a gaffer tree: its config parser and orchestrator, loaded from the
 * tree's `src/` by path. This tree's by default; `npm run bench:regression` loads an older
 * commit's (checked out beside this one), so both are measured by this same code, and a process
 * loads only the tree it measures.
 */
export interface GafferModules {
  parseConfig: typeof parseConfig;
  Orchestrator: typeof Orchestrator;
}

export async function loadGaffer(
  root = path.resolve(import.meta.dirname, '..'),
): Promise<GafferModules> {
  const load = (file: string) => import(pathToFileURL(path.join(root, 'src', file)).href);
  const [{ parseConfig: parse }, { Orchestrator: Orch }] = (await Promise.all([
    load('config/load.ts'),
    load('orchestrator.ts'),
  ])) as [Pick<GafferModules, 'parseConfig'>, Pick<GafferModules, 'Orchestrator'>];
  return { parseConfig: parse, Orchestrator: Orch };
}

/** A started orchestrator on a fresh data folder with `jobTypes`, closed and removed after `fn`. */
export async function withGaffer<T>(
  jobTypes: Record<string, unknown>,
  fn: (orch: Orchestrator) => Promise<T>,
  options: {
    synchronous?: 'FULL' | 'NORMAL';
    broker?: { kind: 'rabbitmq' | 'redis'; url: string };
    gaffer?: GafferModules;
  } = {},
): Promise<T> {
  const { parseConfig: parse, Orchestrator: Orch } = options.gaffer ?? (await loadGaffer());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-bench-'));
  const config = parse(
    {
      store: { dataDir: dir, synchronous: options.synchronous ?? 'NORMAL' },
      ...(options.broker ? { broker: options.broker } : {}),
      jobTypes,
    },
    'bench',
  );
  const orch = new Orch({ config });
  try {
    await orch.start();
    return await fn(orch);
  } finally {
    await orch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves once a worker of `type` is idle (ready for jobs). */
export async function workerReady(orch: Orchestrator, type: string): Promise<void> {
  const ready = () => orch.gateway.workers(type).some((w) => w.state === 'idle');
  if (!ready()) await orch.events.once('worker:state', ready);
}

/** One pool worker process (concurrency 50, a no-op handler), as every row runs its jobs. */
export const ONE_WORKER = {
  worker: { handler: 'bench/noop-handler.ts' },
  concurrency: 50,
  scaling: { min: 1, max: 1 },
};

/**
 * gaffer on the embedded store (or in broker mode on `broker`), measured like the BullMQ baseline: `submitMany` in chunks of 1,000
 * (its addBulk), and end to end with 50 concurrent `submit()` while one pool worker process
 * (concurrency 50, a no-op handler) runs the jobs. Every submit resolves only after its commit.
 */
export async function benchGaffer(
  n: number,
  synchronous: 'FULL' | 'NORMAL',
  broker?: { kind: 'rabbitmq' | 'redis'; url: string },
  gaffer?: GafferModules,
): Promise<{ submit: number; e2e: number; cpuUs: number; workerCpuUs: number }> {
  // Queues on a broker outlive a run: each run gets its own.
  const held = `held-${process.pid}-${Date.now()}`;
  const types = {
    noop: ONE_WORKER,
    held: {
      queue: held,
      worker: { handler: 'bench/noop-handler.ts' },
      scaling: { min: 0, max: 0 },
    },
  };
  return withGaffer(
    types,
    async (orch) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i += 1000) {
        await orch.service.submitMany(
          Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
            type: 'held',
            payload: { i: i + j },
          })),
        );
      }
      const submit = perSecond(n, performance.now() - t0);
      return { submit, ...(await endToEnd(orch, 'noop', n, (i) => ({ i }))) };
    },
    { synchronous, ...(broker ? { broker } : {}), ...(gaffer ? { gaffer } : {}) },
  );
}

/**
 * Jobs/s end to end: `n` jobs of `type` submitted by 50 concurrent `submit()` calls, from the first
 * submit to the last job's success, once a worker is ready; and the CPU time spent per job
 * meanwhile, in µs, by this process (gaffer and the submitting client) and by the type's worker
 * processes: on a shared machine steadier measures of gaffer's cost than the rate, which other
 * load slows.
 */
export async function endToEnd(
  orch: Orchestrator,
  type: string,
  n: number,
  payload: (i: number) => Record<string, unknown>,
): Promise<{ e2e: number; cpuUs: number; workerCpuUs: number }> {
  await workerReady(orch, type);
  const pids = orch.gateway.workers(type).flatMap((w) => (w.pid === null ? [] : [w.pid]));
  const workerCpu = () => pids.reduce((sum, pid) => sum + procCpuMs(pid), 0);
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    orch.events.on('job:succeeded', ({ job }) => {
      if (job.type === type && ++done === n) resolve();
    });
  });
  const t1 = performance.now();
  const cpu = process.cpuUsage();
  const workerCpu0 = workerCpu();
  await inLanes(n, 50, (i) => orch.service.submit({ type, payload: payload(i) }));
  await finished;
  const { user, system } = process.cpuUsage(cpu);
  return {
    e2e: perSecond(n, performance.now() - t1),
    cpuUs: round((user + system) / n, 1),
    workerCpuUs: round(((workerCpu() - workerCpu0) * 1000) / n, 1),
  };
}
