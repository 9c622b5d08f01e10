import { copyFile, mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { asPrefix, inside, listFiles } from './files.ts';
import type { ObjectStore } from './object-store.ts';
import { parseRef } from './reference.ts';

/**
 * The local filesystem as an object store: the default of the embedded setup, where gaffer and
 * its workers share one machine. A "prefix" is a directory; objects are files under it.
 */
export class LocalObjectStore implements ObjectStore {
  async download(ref: string, destDir: string, signal?: AbortSignal): Promise<string[]> {
    const src = localPath(ref);
    const info = await stat(src).catch(() => null);
    if (!info) throw new Error(`${ref}: no such file or directory`);
    await mkdir(destDir, { recursive: true });
    if (!info.isDirectory()) {
      const dest = join(destDir, basename(src));
      await copyFile(src, dest);
      return [dest];
    }
    const files = await listFiles(src);
    if (files.length === 0) throw new Error(`${ref}: no file under this directory`);
    return copyAll(src, files, destDir, signal);
  }

  async upload(srcDir: string, ref: string, signal?: AbortSignal): Promise<string[]> {
    const dest = localPath(ref);
    const files = await listFiles(srcDir);
    await copyAll(srcDir, files, dest, signal);
    return files.map((f) => asPrefix(ref) + f);
  }
}

function localPath(ref: string): string {
  const parsed = parseRef(ref);
  if (parsed.scheme !== 'file') throw new Error(`${ref}: not a local path`);
  return parsed.path;
}

async function copyAll(
  from: string,
  files: readonly string[],
  to: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const written: string[] = [];
  for (const rel of files) {
    signal?.throwIfAborted();
    const dest = inside(to, rel);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(join(from, rel), dest);
    written.push(dest);
  }
  return written;
}
