import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from './config/load.ts';
import type { Logger } from './domain/logger.ts';
import { lockDataDir, type DataDirLock } from './store/data-dir-lock.ts';
import type { JobStore } from './store/job-store.ts';
import { createSqliteStore } from './store/sqlite/index.ts';

/**
 * gaffer's data folder (`store.dataDir`): the SQLite file, scratch space, the embedded broker's
 * file. Invariant: one gaffer per folder with the embedded store — its lock is taken (unless one
 * is given) before anything in the folder is read or written, and released if what follows fails.
 * PostgreSQL is shared by replicas by design: no lock.
 */
type FolderConfig = Pick<ResolvedConfig, 'store'>;

/** The folder's lock: the one given, else taken now for the embedded store, else none. */
export function takeDataFolder(
  config: FolderConfig,
  log: Logger,
  given?: DataDirLock,
): DataDirLock | null {
  const dir = path.resolve(config.store.dataDir);
  return given ?? (config.store.kind === 'sqlite' ? lockDataDir(dir, log) : null);
}

/** Locks the folder, makes its scratch space, and opens the store (the given one, else SQLite). */
export function openDataFolder(
  config: FolderConfig,
  log: Logger,
  given: { lock?: DataDirLock | undefined; store?: JobStore | undefined },
): { lock: DataDirLock | null; store: JobStore } {
  const dir = path.resolve(config.store.dataDir);
  const lock = takeDataFolder(config, log, given.lock);
  try {
    mkdirSync(path.join(dir, 'scratch'), { recursive: true });
    const { synchronous } = config.store;
    const file = path.join(dir, 'gaffer.db');
    return { lock, store: given.store ?? createSqliteStore({ path: file, synchronous, log }) };
  } catch (err) {
    lock?.release();
    throw err;
  }
}
