import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StartError } from '../library/start-error.ts';
import type { Logger } from '../domain/logger.ts';

/**
 * One gaffer per data folder. Two gaffers on one embedded store each take the other's
 * running jobs for orphans of a crashed run ("gaffer restarted while the job ran"), run jobs twice
 * and end jobs under the other's job types. So the embedded store's data folder — the SQLite
 * file, the job scratch files, the embedded broker's file beside them — belongs to one process at
 * a time: it takes this lock before it reads or migrates anything there, holds it for its life,
 * and a second gaffer is refused at once, told who holds it.
 *
 * How: an operating-system lock, which the kernel drops when its process dies however it dies
 * (kill -9, a crash, a power cut): no lock is ever stale, so nothing guesses whether a holder is
 * alive. Node has no flock(2), so the lock is SQLite's own (POSIX fcntl locks on Unix, LockFileEx
 * on Windows), through node:sqlite which gaffer already uses: a small database `gaffer.lock`,
 * opened in `locking_mode = EXCLUSIVE` and written once, so the connection takes the exclusive
 * lock and keeps it until it closes; another opener (another process, or another connection of
 * this one: SQLite tracks the locks of a file across its connections) gets SQLITE_BUSY at once
 * (busy_timeout 0). The npm lock libraries were passed over: proper-lockfile (the usual one)
 * holds a directory made with mkdir and refreshes its mtime, and calls a lock stale when the mtime
 * is older than a threshold — a gaffer whose event loop is held up past it (a large upload's
 * synchronous commits, a machine suspended) loses a lock it still uses, and a dead holder's lock
 * stays until the threshold passes.
 *
 * The lock file is never deleted (deleting a lock file races with a process opening it: two
 * processes could then hold locks on two different files of one name). Who holds it is written
 * beside it, in `gaffer.lock.json` — pid, host, start time, and the address it serves once known —
 * for the refusal to name; it is advisory (the lock decides) and removed on release. Nothing in
 * gaffer opens `gaffer.lock` with fs: closing any descriptor of a file drops every fcntl lock this
 * process holds on it.
 */

/** Who holds a data folder, as its `gaffer.lock.json` says. */
export interface DataDirHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  startedAt: string;
  /** Where its API listens, once it does (null before, or for a gaffer that never listens). */
  address: string | null;
}

export interface DataDirLock {
  readonly dir: string;
  /** Records where this gaffer serves (the refusal of a second one names it). */
  serving(address: string): void;
  /** Releases the lock (idempotent); the lock also ends with the process. */
  release(): void;
}

export const LOCK_FILE = 'gaffer.lock';
export const HOLDER_FILE = 'gaffer.lock.json';

/** SQLite's SQLITE_BUSY (and SQLITE_LOCKED, for a lock held by this process's shared cache). */
const BUSY = new Set([5, 6]);

/**
 * Takes the data folder's lock, or throws a `StartError` (GAFFER_DATA_DIR_IN_USE) naming the
 * gaffer that holds it. Creates the folder if need be.
 */
export function lockDataDir(dataDir: string, log: Pick<Logger, 'warn'>): DataDirLock {
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(path.join(dir, LOCK_FILE));
  try {
    db.exec('PRAGMA busy_timeout = 0');
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    // No journal file beside it: the one row written is of no value if a write is torn.
    db.exec('PRAGMA journal_mode = MEMORY');
    db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL)');
    // A write takes the exclusive lock; in EXCLUSIVE locking mode it is kept after the commit.
    db.prepare('INSERT OR REPLACE INTO holder (id, pid) VALUES (1, ?)').run(process.pid);
  } catch (err) {
    db.close();
    if (BUSY.has((err as { errcode?: number }).errcode ?? -1)) {
      throw new StartError('GAFFER_DATA_DIR_IN_USE', inUseMessage(dir, readHolder(dir)));
    }
    throw err;
  }
  const holder: DataDirHolder = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    address: null,
  };
  writeHolder(dir, holder, log);
  let held = true;
  return {
    dir,
    serving(address) {
      if (!held) return;
      holder.address = address;
      writeHolder(dir, holder, log);
    },
    release() {
      if (!held) return;
      held = false;
      rmSync(path.join(dir, HOLDER_FILE), { force: true });
      db.close();
    },
  };
}

/** The holder `gaffer.lock.json` names, or null (none written yet, or unreadable). */
export function readHolder(dataDir: string): DataDirHolder | null {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, HOLDER_FILE), 'utf8')) as DataDirHolder;
  } catch {
    return null;
  }
}

/** Written whole, then renamed over: a reader never sees half a file. */
function writeHolder(dir: string, holder: DataDirHolder, log: Pick<Logger, 'warn'>): void {
  const file = path.join(dir, HOLDER_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(holder) + '\n');
    renameSync(tmp, file);
  } catch (err) {
    // Advisory only: the lock is held either way; a refusal then says it cannot name the holder.
    log.warn({ file, error: String(err) }, "cannot record the data folder's holder");
  }
}

function inUseMessage(dir: string, holder: DataDirHolder | null): string {
  const who = holder
    ? `another gaffer holds it: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}` +
      (holder.address ? `, serving ${holder.address}` : ', not serving HTTP (yet)')
    : 'another gaffer holds it (it has not recorded who it is yet: it is starting)';
  return (
    `the data folder ${dir} is in use: ${who}. Two gaffers on one data folder would run each ` +
    `other's jobs twice; stop that one first, or give this one a data folder of its own ` +
    `(--data-dir, store.dataDir)`
  );
}
