import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../domain/logger.ts';
import type { JobStore } from './job-store.ts';
import { createSqliteStore } from './sqlite/index.ts';

/** Where the job record lives: the embedded SQLite file, or a PostgreSQL shared by replicas. */
export interface StoreRef {
  kind: 'sqlite' | 'postgres';
  /** postgres://… for postgres. */
  url?: string | undefined;
  dataDir: string;
  synchronous: 'FULL' | 'NORMAL';
}

/** The one registry of stores. PostgreSQL's client loads only when it is asked for. */
export async function openStore(ref: StoreRef, log: Pick<Logger, 'warn'>): Promise<JobStore> {
  if (ref.kind === 'sqlite') {
    mkdirSync(ref.dataDir, { recursive: true });
    return createSqliteStore({
      path: path.join(ref.dataDir, 'gaffer.db'),
      synchronous: ref.synchronous,
      log,
    });
  }
  if (!ref.url) throw new Error('store.url is required for a postgres store');
  const { createPostgresStore } = await import('./postgres/index.ts');
  return createPostgresStore({ url: ref.url });
}
