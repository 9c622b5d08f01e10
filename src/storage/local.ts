import { mkdir, open, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DataPolicyError, TransferBudget } from './budget.ts';
import {
  copyCounted,
  mkdirInside,
  openForRead,
  openForWrite,
  realRoots,
  resolveInside,
  walk,
} from './confined.ts';
import { asPrefix, inside } from './files.ts';
import type { ObjectStore, Transfer } from './object-store.ts';
import { parseRef } from './reference.ts';
import { confine, forbiddenMessage } from './roots.ts';

/**
 * The local filesystem as an object store: the default of the embedded setup, where gaffer and
 * its workers share one machine. A "prefix" is a directory; objects are files under it.
 *
 * Confined to `roots` (`storage.local.roots`): a reference must name a path at or below one
 * (checked as at submit), and what it resolves to — symlinks followed — must lie in a root's own
 * real path (confined.ts). No roots: every local reference is refused. An output overwrites a
 * regular file of the same name (so a retried upload completes), never through a symlink.
 */
export class LocalObjectStore implements ObjectStore {
  readonly #roots: readonly string[];

  constructor(roots: readonly string[]) {
    this.#roots = roots;
  }

  async download(ref: string, destDir: string, t: Transfer = {}): Promise<string[]> {
    const budget = t.budget ?? new TransferBudget(undefined, ref);
    const roots = await this.#allowed(ref);
    const real = await resolveInside(localPath(ref), roots, ref).catch(notFound(ref));
    await mkdir(destDir, { recursive: true });
    if (!(await stat(real)).isDirectory()) {
      t.signal?.throwIfAborted();
      budget.entry(ref);
      const dest = join(destDir, basename(localPath(ref)));
      await copyIn(real, dest, roots, budget, ref, t.signal);
      return [dest];
    }
    const written: string[] = [];
    const name = asPrefix(ref);
    await walk(real, { roots, budget, signal: t.signal, name }, async (rel, path) => {
      const dest = inside(destDir, rel);
      await mkdir(dirname(dest), { recursive: true });
      await copyIn(path, dest, roots, budget, `${name}${rel}`, t.signal);
      written.push(dest);
    });
    if (written.length === 0) throw new Error(`${ref}: no file under this directory`);
    return written.sort();
  }

  async upload(srcDir: string, ref: string, t: Transfer = {}): Promise<string[]> {
    const budget = t.budget ?? new TransferBudget(undefined, ref);
    // An output may be the first thing written under its root: the operator listed it, so it is
    // created (inputs never create anything).
    const roots = await this.#allowed(ref, { create: true });
    const dest = localPath(ref);
    const src = await realpath(srcDir);
    const verified = new Set<string>();
    const written: string[] = [];
    const name = asPrefix(ref);
    const walked = { roots: [src], budget, signal: t.signal, name: `${srcDir}/` };
    await walk(src, walked, async (rel, path) => {
      const target = inside(dest, rel);
      await mkdirInside(dirname(target), roots, `${name}${rel}`, verified);
      const from = await openForRead(path, [src], `${srcDir}/${rel}`);
      try {
        budget.wouldFit(from.size, `${name}${rel}`);
        const to = await openForWrite(target, roots, `${name}${rel}`);
        try {
          await copyCounted(from.handle, to, budget, `${name}${rel}`, t.signal);
        } finally {
          await to.close();
        }
      } finally {
        await from.handle.close();
      }
      written.push(name + rel);
    });
    return written.sort();
  }

  /** The roots' real paths, once `ref` passed the lexical check submit made. */
  async #allowed(ref: string, o: { create?: boolean } = {}): Promise<string[]> {
    const verdict = confine(localPath(ref), this.#roots);
    if (!verdict.allowed) throw new DataPolicyError(forbiddenMessage(ref, verdict.reason));
    if (o.create) await mkdir(verdict.root, { recursive: true });
    return realRoots(this.#roots);
  }
}

/** Copies a file inside the roots to the job's own directory (trusted: created for this job). */
async function copyIn(
  path: string,
  dest: string,
  roots: readonly string[],
  budget: TransferBudget,
  name: string,
  signal?: AbortSignal,
): Promise<void> {
  const from = await openForRead(path, roots, name);
  try {
    budget.wouldFit(from.size, name);
    const to = await open(dest, 'w');
    try {
      await copyCounted(from.handle, to, budget, name, signal);
    } finally {
      await to.close();
    }
  } finally {
    await from.handle.close();
  }
}

function notFound(ref: string) {
  return (err: NodeJS.ErrnoException): never => {
    if (err.code === 'ENOENT') throw new Error(`${ref}: no such file or directory`);
    throw err;
  };
}

function localPath(ref: string): string {
  const parsed = parseRef(ref);
  if (parsed.scheme !== 'file') throw new Error(`${ref}: not a local path`);
  return parsed.path;
}
