import { resolve, sep } from 'node:path';

/** Helpers the stores share. */

/** An upload reference names a prefix whether or not it ends in `/`: this one does. */
export function asPrefix(ref: string): string {
  return ref.endsWith('/') ? ref : `${ref}/`;
}

/**
 * `dir/rel`, refusing a `rel` that would land outside `dir` (an object key like `a/../../x`):
 * an object store's keys must never write anywhere but the job's own directory.
 */
export function inside(dir: string, rel: string): string {
  const root = resolve(dir);
  const path = resolve(root, rel);
  if (path === root || !path.startsWith(root + sep)) {
    throw new Error(`object name "${rel}" would be written outside ${dir}`);
  }
  return path;
}
