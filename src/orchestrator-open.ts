import path from 'node:path';
import { takeDataFolder } from './data-folder.ts';
import * as registry from './executors/registry.ts';
import { createLogger } from './log/logger.ts';
import type { OrchestratorOptions } from './orchestrator-options.ts';
import { openStore } from './store/open.ts';

/** What `Orchestrator.open` builds on, and how to give it back if building fails. */
interface Opened {
  options: OrchestratorOptions;
  close(): Promise<void>;
}

/**
 * Loads the executors the config uses and opens its store. The embedded store's data folder lock
 * comes first (unless given): a held folder is a `StartError`. Invariant: when a step fails,
 * whatever was opened before it is closed and the lock released; on success the caller owns them
 * (`close` gives them back if what it builds on them fails).
 */
export async function openParts(given: Omit<OrchestratorOptions, 'store'>): Promise<Opened> {
  const { store } = given.config;
  const log = given.log ?? createLogger();
  const lock = takeDataFolder(given.config, log, given.lock) ?? undefined;
  try {
    const executorFactories =
      given.executorFactories ??
      (await registry.loadExecutors(registry.executorKinds(given.config)));
    const opened = await openStore({ ...store, dataDir: path.resolve(store.dataDir) }, log);
    return {
      options: { ...given, log, store: opened, executorFactories, ...(lock ? { lock } : {}) },
      close: async () => {
        await opened.close();
        lock?.release();
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}
