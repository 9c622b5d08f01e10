import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import { OffsetClock } from '../../src/domain/clock.ts';
import type { GafferEventName } from '../../src/domain/events.ts';
import type { ExecutorFactories } from '../../src/executors/registry.ts';
import { Orchestrator } from '../../src/orchestrator.ts';

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface TestGaffer {
  orch: Orchestrator;
  app: FastifyInstance;
  clock: OffsetClock;
  dataDir: string;
  /** Where the API listens, when it listens (the network transport needs it to). */
  url: string | undefined;
  /** Tells gaffer where it listens, when `startGaffer` was asked to wait (`announce: 'later'`). */
  announce(): void;
  /** Stops gaffer; keeps the data dir unless `wipe`. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real gaffer (store, executor, autoscaler, API) on a private data dir. `options.port`: listen
 * there (a restart on the address workers reconnect to); `options.announce: 'later'`: do not tell
 * gaffer its own URL until `announce()` (a restarted gaffer that does not know it yet);
 * `options.executorFactories`: the executors to build (a test that records their hooks);
 * `options.clock`: gaffer's clock, shared across a stop and a restart.
 */
export async function startGaffer(
  raw: Record<string, unknown>,
  dataDir?: string,
  options: {
    port?: number;
    announce?: 'now' | 'later';
    /** The executor factories to build from (default: what the config's kinds load). */
    executorFactories?: ExecutorFactories;
    /** gaffer's clock (default: a new one): a restart that shares it sees the time it was advanced. */
    clock?: OffsetClock;
  } = {},
): Promise<TestGaffer> {
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'gaffer-test-'));
  const config = parseConfig(
    { ...raw, store: { dataDir: dir, synchronous: 'NORMAL', ...(raw['store'] as object) } },
    'test',
  );
  const clock = options.clock ?? new OffsetClock();
  const factories = options.executorFactories;
  const orch = await Orchestrator.open({
    config,
    clock,
    ...(factories ? { executorFactories: factories } : {}),
  });
  await orch.start();
  const app = await buildApp(orch);
  await app.ready();
  // Networked workers (and Kubernetes pool pods) connect back over the API: it must listen on a
  // real port.
  let url: string | undefined;
  const networked =
    config.executor.transport === 'network' || config.executor.kind === 'kubernetes';
  if (networked || options.port !== undefined) {
    url = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  }
  const announce = () => url !== undefined && orch.listening(url);
  if (options.announce !== 'later') announce();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.close();
    await orch.close();
  };
  return {
    orch,
    app,
    clock,
    dataDir: dir,
    url,
    announce: () => void announce(),
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves once `check` holds, re-checking whenever one of `events` fires (and once at start).
 * No sleeping: the events are the clock of the test. Rejects after `timeoutMs` as a safety net.
 */
export function until(
  g: TestGaffer,
  check: () => Promise<boolean> | boolean,
  events: GafferEventName[] = [
    'job:succeeded',
    'job:failed',
    'job:retrying',
    'worker:state',
    'worker:stopped',
    'scaler:decision',
  ],
  timeoutMs = 120_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let busy = false;
    let again = false;
    const offs: (() => void)[] = [];
    const done = (err?: Error) => {
      clearTimeout(timer);
      for (const off of offs) off();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () => done(new Error(`condition not met in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const run = async () => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        if (await check()) return done();
      } catch (err) {
        return done(err as Error);
      } finally {
        busy = false;
      }
      if (again) {
        again = false;
        void run();
      }
    };
    for (const e of events) offs.push(g.orch.events.on(e, () => void run()));
    void run();
  });
}

/** A multipart/form-data body holding one file, for `app.inject`. */
export function multipart(filename: string, content: string | Buffer, field = 'file') {
  const boundary = `----gaffer${Math.random().toString(16).slice(2)}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`;
  const body = Buffer.concat([
    Buffer.from(head),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return {
    payload: body,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

export async function countByState(g: TestGaffer, type: string): Promise<Record<string, number>> {
  const stats = await g.orch.store.queueStats(g.clock.now());
  return (stats.find((s) => s.type === type)?.byState ?? {}) as Record<string, number>;
}
