import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config/load.ts';
import { Orchestrator } from '../src/orchestrator.ts';
import { atRate } from './lib.ts';

export type BrokerRef = { kind: 'rabbitmq' | 'redis'; url: string };

/**
 * Latency under a steady open-loop load: `n` no-op jobs submitted at `rate` per second, each
 * measured from the moment it was due to be submitted until gaffer announced it succeeded (its
 * outcome committed). One pool worker process, concurrency 50, as in the throughput bench.
 */
export async function latencyGaffer(
  rate: number,
  n: number,
  broker?: BrokerRef,
): Promise<number[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-bench-'));
  const config = parseConfig(
    {
      store: { dataDir: dir, synchronous: 'NORMAL' },
      ...(broker ? { broker } : {}),
      jobTypes: {
        noop: {
          queue: `lat-${path.basename(dir)}`,
          worker: { handler: 'bench/noop-handler.ts' },
          concurrency: 50,
          scaling: { min: 1, max: 1 },
        },
      },
    },
    'bench',
  );
  const orch = new Orchestrator({ config });
  try {
    await orch.start();
    const ready = () => orch.gateway.workers('noop').some((w) => w.state === 'idle');
    if (!ready()) await orch.events.once('worker:state', ready);
    const latencies: number[] = [];
    const finished = new Promise<void>((resolve) => {
      orch.events.on('job:succeeded', ({ job }) => {
        latencies.push(performance.now() - (job.payload as { due: number }).due);
        if (latencies.length === n) resolve();
      });
    });
    await atRate(rate, n, (_, due) => {
      orch.service.submit({ type: 'noop', payload: { due } }).catch((err: unknown) => {
        console.error('submit failed', err);
      });
    });
    await finished;
    return latencies;
  } finally {
    await orch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
