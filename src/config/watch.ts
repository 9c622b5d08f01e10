import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../domain/logger.ts';
import type { ReloadResult } from './diff.ts';
import { ConfigError, type ConfigProblem, type ResolvedConfig } from './load.ts';

/** The last reload's outcome, as `GET /v1/config` shows it under `reload`. */
export interface ReloadStatus {
  /** When it ran (ms since the epoch). */
  at: number;
  ok: boolean;
  /** Every problem of a refused config, with its path; the running config stayed. */
  errors?: ConfigProblem[];
  /** Settings that differ from the running ones but only take effect on a restart. */
  needsRestart?: string[];
  added?: string[];
  changed?: string[];
  removed?: string[];
  /** The API keys changed (and apply to every request and session from now on). */
  keysChanged?: boolean;
}

export interface ReloaderOptions {
  /** Reads and validates the config exactly as at start (file < env < the same CLI flags). */
  load: () => Promise<ResolvedConfig>;
  /** Applies a valid config (an Orchestrator's `reload`). */
  apply: (next: ResolvedConfig) => Promise<ReloadResult>;
  now: () => number;
  /** A refused reload is a warning here, with every problem. */
  log: Pick<Logger, 'warn'>;
}

/**
 * One reload at a time: the file watcher and `POST /v1/config/reload` both go through `reload()`,
 * and a trigger arriving while one runs waits for it, so two reads never race to apply.
 */
export class ConfigReloader {
  #status: ReloadStatus | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #o: ReloaderOptions;

  constructor(options: ReloaderOptions) {
    this.#o = options;
  }

  /** The last reload's outcome; null until one ran. */
  get status(): ReloadStatus | null {
    return this.#status;
  }

  reload(): Promise<ReloadStatus> {
    const next = this.#chain.then(() => this.#reloadOnce());
    this.#chain = next.catch(() => {});
    return next;
  }

  async #reloadOnce(): Promise<ReloadStatus> {
    const at = this.#o.now();
    let status: ReloadStatus;
    try {
      const result = await this.#o.apply(await this.#o.load());
      status = statusOf(at, result);
    } catch (err) {
      // A file that does not parse or validate: every problem, the running config untouched.
      const errors =
        err instanceof ConfigError
          ? err.problems
          : [{ path: '', message: (err as Error).message ?? String(err) }];
      status = { at, ok: false, errors };
    }
    if (!status.ok) {
      this.#o.log.warn(
        { problems: status.errors ?? [] },
        'config reload refused, the running config stays',
      );
    }
    this.#status = status;
    return status;
  }
}

function statusOf(at: number, r: ReloadResult): ReloadStatus {
  return {
    at,
    ok: r.ok,
    ...(r.errors?.length ? { errors: r.errors } : {}),
    ...(r.needsRestart.length ? { needsRestart: r.needsRestart } : {}),
    added: r.added,
    changed: r.changed,
    removed: r.removed,
    ...(r.keysChanged ? { keysChanged: true } : {}),
  };
}

export interface WatchOptions {
  /** Quiet time after the last change before reloading (default 250 ms). */
  debounceMs?: number;
  /** A watch that fails (the directory removed) is logged here. */
  log: Pick<Logger, 'error'>;
}

/**
 * Reloads when the config file changes. Watches the file's directory, not its inode: an editor
 * saves by writing a new file and renaming it over the old one, and kubelet updates a mounted
 * ConfigMap by swapping the `..data` symlink in the directory — either way a watch on the old
 * inode would go silent. One save fires several events (write, rename, symlink swap), so they
 * are coalesced by a plain timer that restarts on each event: the injected Clock has no timers,
 * and this is wall-clock I/O at the edge, never a scheduling decision tests depend on.
 */
export function watchConfig(
  file: string,
  reloader: Pick<ConfigReloader, 'reload'>,
  options: WatchOptions,
): { close(): void } {
  const dir = path.dirname(path.resolve(file));
  const base = path.basename(file);
  const debounceMs = options.debounceMs ?? 250;
  let timer: NodeJS.Timeout | null = null;
  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, name) => {
    // null: the platform did not say which entry changed. `..data`, `..2026_…`: kubelet's swap.
    if (name !== null && name !== base && !name.startsWith('..')) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void reloader.reload();
    }, debounceMs);
    timer.unref();
  });
  watcher.on('error', (err) =>
    options.log.error({ err, dir }, 'watching the config folder failed'),
  );
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
