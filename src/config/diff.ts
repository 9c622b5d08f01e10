import { isDeepStrictEqual } from 'node:util';
import type { ResolvedConfig } from './load.ts';

/**
 * What a config reload changes, decided without I/O: the job types added, changed and removed,
 * whether the API keys changed, and the settings that differ but only take effect on a restart.
 *
 * Live (applied by `Orchestrator.reload`): `jobTypes`, `routes` (rules and cost) and `adhoc` —
 * together they are the `Catalog`, which is replaced whole —, `schedules` (the schedule runner reads
 * the section in force on every pass, src/schedules/runner.ts) and `auth.keys` while auth stays on
 * (keys before and after): a key is added, revoked or re-scoped without a restart, since every
 * request and session is checked against the keys in force. Turning auth on or off changes which
 * hooks and limits the API has, so that needs a restart. Everything else is read once at start
 * (the listener, the store, the broker connection, the executor, the rest of `auth`, the loops'
 * intervals), so a difference there is reported as needing a restart, never half-applied.
 */
export interface ConfigDiff {
  added: string[];
  changed: string[];
  removed: string[];
  /** The API keys changed, and apply live. */
  keysChanged: boolean;
  /** Dotted paths of the differing settings that need a restart, e.g. `server.port`. */
  needsRestart: string[];
}

/** The top-level sections the catalog is built from: swapped live. */
export const CATALOG_SECTIONS = ['jobTypes', 'routes', 'adhoc'] as const;

/** The top-level sections a reload applies without a restart. */
export const LIVE_SECTIONS = [...CATALOG_SECTIONS, 'schedules'] as const;

export function diffConfig(current: ResolvedConfig, next: ResolvedConfig): ConfigDiff {
  const before = current.jobTypes;
  const after = next.jobTypes;
  const added = Object.keys(after).filter((n) => !Object.hasOwn(before, n));
  const removed = Object.keys(before).filter((n) => !Object.hasOwn(after, n));
  const changed = Object.keys(after).filter(
    (n) => Object.hasOwn(before, n) && !isDeepStrictEqual(before[n], after[n]),
  );
  const live = new Set<string>(LIVE_SECTIONS);
  const sections = new Set([...Object.keys(current), ...Object.keys(next)]);
  let needsRestart: string[] = [];
  for (const key of [...sections].filter((k) => !live.has(k)).sort()) {
    needsRestart.push(...differingPaths(key, rec(current)[key], rec(next)[key]));
  }
  const keysChanged =
    keysLive(current, next) && !isDeepStrictEqual(current.auth.keys, next.auth.keys);
  if (keysChanged) needsRestart = needsRestart.filter((p) => !/^auth\.keys(\.|$)/.test(p));
  return {
    added: added.sort(),
    changed: changed.sort(),
    removed: removed.sort(),
    keysChanged,
    needsRestart,
  };
}

/** The API keys can change live: auth is on (some key configured) before and after. */
export function keysLive(current: ResolvedConfig, next: ResolvedConfig): boolean {
  return current.auth.keys.length > 0 && next.auth.keys.length > 0;
}

/** Whether the diff changes anything the catalog holds besides types (rules, cost, adhoc). */
export function catalogChanged(current: ResolvedConfig, next: ResolvedConfig): boolean {
  return CATALOG_SECTIONS.some((k) => !isDeepStrictEqual(current[k], next[k]));
}

/** Leaf paths where `a` and `b` differ; a whole subtree present on one side only is one path. */
function differingPaths(at: string, a: unknown, b: unknown): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (!isPlainObject(a) || !isPlainObject(b)) return [at];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].sort().flatMap((k) => differingPaths(`${at}.${k}`, a[k], b[k]));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rec(c: ResolvedConfig): Record<string, unknown> {
  return c as unknown as Record<string, unknown>;
}

/** What `Orchestrator.reload` did: the diff applied, or why nothing was. */
export type ReloadResult = ConfigDiff & {
  ok: boolean;
  /** Why the new config was refused (the running one stays), each with its JSON pointer. */
  errors?: { path: string; message: string }[];
};
