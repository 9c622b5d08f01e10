import { resolve, sep } from 'node:path';
import { parseRef } from './reference.ts';

/**
 * Where local data references may point (pure: no I/O). An operator lists roots
 * (`storage.local.roots`, absolute after the config is loaded); a local path is allowed only at a
 * root or below one. No roots: no local path at all. This is the lexical check gaffer makes at
 * submit; the worker repeats it and then checks the real path, symlinks resolved (confined.ts).
 */

/** Whether absolute `path` is `root` or below it (both taken lexically, trailing `/` ignored). */
export function within(path: string, root: string): boolean {
  const [p, r] = [resolve(path), resolve(root)];
  if (r === sep) return true;
  return p === r || p.startsWith(r + sep);
}

export type Confinement =
  { allowed: true; root: string } | { allowed: false; reason: 'no-roots' | 'outside' };

/** Which root allows absolute `path`, or why none does. */
export function confine(path: string, roots: readonly string[]): Confinement {
  if (roots.length === 0) return { allowed: false, reason: 'no-roots' };
  const root = roots.find((r) => within(path, r));
  return root === undefined ? { allowed: false, reason: 'outside' } : { allowed: true, root };
}

/** What is wrong with a reference at submit: not a reference at all, or not allowed here. */
export interface RefProblem {
  kind: 'invalid' | 'forbidden';
  message: string;
}

/** Null when `ref` is a valid reference that this gaffer's roots allow. */
export function dataRefProblem(ref: string, roots: readonly string[]): RefProblem | null {
  let parsed;
  try {
    parsed = parseRef(ref);
  } catch (err) {
    return { kind: 'invalid', message: (err as Error).message };
  }
  if (parsed.scheme !== 'file') return null;
  const verdict = confine(parsed.path, roots);
  if (verdict.allowed) return null;
  return { kind: 'forbidden', message: forbiddenMessage(ref, verdict.reason) };
}

export function forbiddenMessage(ref: string, reason: 'no-roots' | 'outside'): string {
  return reason === 'no-roots'
    ? `${ref}: local paths are off on this gaffer (storage.local.roots lists no directory)`
    : `${ref}: outside every local data root (storage.local.roots)`;
}
