import { constants } from 'node:fs';
import { mkdir, open, opendir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DataPolicyError, type TransferBudget } from './budget.ts';
import { within } from './roots.ts';

/**
 * The filesystem side of the local roots (roots.ts is the lexical side): everything here works on
 * real paths, symlinks resolved, and checks them against the roots' own real paths after
 * resolving. Node has no openat(), so a path checked could be swapped for a symlink before it is
 * opened; to close that window each file is opened with O_NOFOLLOW and the path the kernel
 * actually opened (/proc/self/fd, on Linux) is checked again before a byte moves. Where /proc is
 * missing, the check before opening is the only one (a documented race).
 */

const READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const WRITE = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The real paths of the roots that exist here (a root missing on this machine allows nothing). */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const real = await Promise.all(roots.map((r) => realpath(r).catch(() => null)));
  return real.filter((r): r is string => r !== null);
}

export function insideAny(path: string, roots: readonly string[]): boolean {
  return roots.some((r) => within(path, r));
}

/** What a refusal says: never the real path a link leads to. */
function outside(name: string): DataPolicyError {
  return new DataPolicyError(`${name}: leads outside the local data roots (symlinks resolved)`);
}

/** `path` with every symlink resolved, refused unless it is in `roots` (real paths). */
export async function resolveInside(
  path: string,
  roots: readonly string[],
  name: string,
): Promise<string> {
  const real = await realpath(path);
  if (!insideAny(real, roots)) throw outside(name);
  return real;
}

/** The path the kernel opened for `handle`, or null where /proc does not say. */
async function openedPath(handle: FileHandle): Promise<string | null> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return null;
  }
}

/** Opens a regular file inside `roots` for reading; FIFOs and devices are refused, not waited on. */
export async function openForRead(
  path: string,
  roots: readonly string[],
  name: string,
): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(path, READ).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ELOOP' ? outside(name) : err;
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new DataPolicyError(`${name}: not a regular file`);
    const opened = await openedPath(handle);
    if (opened !== null && !insideAny(opened, roots)) throw outside(name);
    return { handle, size: info.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * Opens `path` inside `roots` for writing, creating it or overwriting a regular file there. Never
 * through a symlink, never a FIFO or device, never a file with other hard links (an overwrite
 * would change the other names too).
 */
export async function openForWrite(
  path: string,
  roots: readonly string[],
  name: string,
): Promise<FileHandle> {
  const handle = await open(path, WRITE, 0o644).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ELOOP' ? new DataPolicyError(`${name}: is a symbolic link`) : err;
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new DataPolicyError(`${name}: not a regular file`);
    if (info.nlink > 1) throw new DataPolicyError(`${name}: has other hard links`);
    const opened = await openedPath(handle);
    if (opened !== null && !insideAny(opened, roots)) throw outside(name);
    await handle.truncate(0);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * Creates `dir` and its missing parents one level at a time, each checked inside `roots` after
 * resolving (mkdir -p would follow a planted symlink and create directories wherever it leads).
 * `verified` remembers directories already checked during one transfer.
 */
export async function mkdirInside(
  dir: string,
  roots: readonly string[],
  name: string,
  verified: Set<string>,
): Promise<void> {
  if (verified.has(dir)) return;
  let real = await realpath(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (real === null) {
    const parent = dirname(dir);
    if (parent === dir) throw outside(name);
    await mkdirInside(parent, roots, name, verified);
    await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    real = await realpath(dir);
  }
  if (!insideAny(real, roots)) throw outside(name);
  verified.add(dir);
}

/**
 * Copies `from` into `to`, counting bytes against `budget` as they pass; `signal` aborts it. The
 * streams close both handles when they end, however they end (a FileHandle's close() waits for
 * its streams, so a stream that kept it open would hang its caller's close); closing them again
 * afterwards is harmless.
 */
export async function copyCounted(
  from: FileHandle,
  to: FileHandle,
  budget: TransferBudget,
  name: string,
  signal?: AbortSignal,
): Promise<void> {
  await pipeline(
    from.createReadStream({ start: 0 }),
    async function* count(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        budget.add(chunk.length, name);
        yield chunk;
      }
    },
    to.createWriteStream(),
    signal ? { signal } : {},
  );
}

export interface WalkOptions {
  /** Real paths a file or a followed link must lie in. */
  roots: readonly string[];
  budget: TransferBudget;
  signal?: AbortSignal | undefined;
  /** Prefixes the names in errors (the reference walked). */
  name: string;
}

/**
 * Calls `visit(rel, path)` for every regular file under `dir` (a real path), one at a time, with
 * `rel` its path below `dir` (`/`-separated) and `path` the file to open. The walk streams
 * directories (never a whole listing in memory), counts every entry it meets against the budget's
 * files (directories, links and skipped entries too, so no tree is an unbounded walk), and checks
 * `signal` before each entry. A symlink is followed once: to a file inside the
 * roots it is visited as that file; leading outside them it fails the walk; to a directory it is
 * not entered (a walk never loops). Dangling links, FIFOs, sockets and devices are skipped.
 */
export async function walk(
  dir: string,
  o: WalkOptions,
  visit: (rel: string, path: string) => Promise<void>,
): Promise<void> {
  const pending: string[] = [''];
  while (pending.length > 0) {
    const relDir = pending.pop()!;
    o.signal?.throwIfAborted();
    // Checked again as it is opened: a directory swapped for a link since it was listed.
    const real = await resolveInside(join(dir, relDir), o.roots, `${o.name}${relDir}`);
    for await (const e of await opendir(real)) {
      o.signal?.throwIfAborted();
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      const path = join(real, e.name);
      o.budget.entry(`${o.name}${rel}`);
      if (e.isDirectory()) {
        pending.push(rel);
      } else if (e.isFile()) {
        await visit(rel, path);
      } else if (e.isSymbolicLink()) {
        const target = await realpath(path).catch(() => null);
        if (target === null) continue;
        if (!insideAny(target, o.roots)) throw outside(`${o.name}${rel}`);
        if (!(await stat(target)).isFile()) continue;
        await visit(rel, target);
      }
    }
  }
}
