import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config/load.ts';
import { Orchestrator } from '../src/orchestrator.ts';
import { inLanes, perSecond } from './lib.ts';

/**
 * gaffer on the embedded store (or in broker mode on `broker`), measured like the BullMQ baseline: `submitMany` in chunks of 1,000
 * (its addBulk), and end to end with 50 concurrent `submit()` while one pool worker process
 * (concurrency 50, a no-op handler) runs the jobs. Every submit resolves only after its commit.
 */
export async function benchGaffer(
  n: number,
  synchronous: 'FULL' | 'NORMAL',
  broker?: { kind: 'rabbitmq' | 'redis'; url: string },
): Promise<{ submit: number; e2e: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-bench-'));
  // Queues on a broker outlive a run: each run gets its own.
  const tag = path.basename(dir);
  const config = parseConfig(
    {
      store: { dataDir: dir, synchronous },
      ...(broker ? { broker } : {}),
      jobTypes: {
        noop: {
          worker: { handler: 'bench/noop-handler.ts' },
          concurrency: 50,
          scaling: { min: 1, max: 1 },
        },
        held: {
          queue: `held-${tag}`,
          worker: { handler: 'bench/noop-handler.ts' },
          scaling: { min: 0, max: 0 },
        },
      },
    },
    'bench',
  );
  const orch = new Orchestrator({ config });
  try {
    await orch.start();
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

    const ready = () => orch.gateway.workers('noop').some((w) => w.state === 'idle');
    if (!ready()) await orch.events.once('worker:state', ready);
    let done = 0;
    const finished = new Promise<void>((resolve) => {
      orch.events.on('job:succeeded', ({ job }) => {
        if (job.type === 'noop' && ++done === n) resolve();
      });
    });
    const t1 = performance.now();
    await inLanes(n, 50, (i) => orch.service.submit({ type: 'noop', payload: { i } }));
    await finished;
    const e2e = perSecond(n, performance.now() - t1);
    return { submit, e2e };
  } finally {
    await orch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
