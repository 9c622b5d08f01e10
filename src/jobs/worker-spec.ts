import path from 'node:path';
import type { ResolvedConfig } from '../config/load.ts';
import type { JobTypeConfig } from '../config/schema.ts';
import type { BrokerRef, WorkerSpec } from '../worker/protocol.ts';

/**
 * What a worker is started with, decided from the config alone (pure). A worker keeps its spec
 * for life and never reads the catalog again, so a reload that changes a type's spec replaces
 * that type's pool workers (`Orchestrator.reload`).
 */
type SpecConfig = Pick<ResolvedConfig, 'store' | 'broker' | 'leases' | 'storage'>;

/** Workers heartbeat three times per lease TTL (at least every 50 ms apart). */
export function heartbeatMs(config: Pick<ResolvedConfig, 'leases'>): number {
  return Math.max(50, Math.floor(config.leases.ttlMs / 3));
}

/** The broker address workers get: embedded defaults to a file beside the store. */
export function brokerRef(
  config: Pick<ResolvedConfig, 'store' | 'broker'>,
  queue: string,
): BrokerRef | null {
  const b = config.broker;
  if (b.kind === 'none') return null;
  return {
    kind: b.kind,
    url: b.url ?? path.resolve(config.store.dataDir, 'broker.db'),
    queue,
    visibilityTimeoutMs: b.visibilityTimeoutMs,
  };
}

export function workerSpec(config: SpecConfig, name: string, type: JobTypeConfig): WorkerSpec {
  const broker = type.mode === 'pool' ? brokerRef(config, type.queue) : null;
  return {
    type: name,
    mode: type.mode,
    concurrency: type.concurrency,
    ...(type.worker.command ? { command: type.worker.command } : {}),
    ...(type.worker.handler ? { handler: type.worker.handler } : {}),
    env: type.worker.env,
    ...(type.worker.cwd ? { cwd: type.worker.cwd } : {}),
    scratchDir: path.resolve(config.store.dataDir, 'scratch'),
    ...(broker ? { broker } : {}),
    heartbeatMs: heartbeatMs(config),
    killGraceMs: 5000,
    storage: config.storage,
  };
}
