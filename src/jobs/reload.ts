import { isDeepStrictEqual } from 'node:util';
import { diffConfig, LIVE_SECTIONS, type ReloadResult } from '../config/diff.ts';
import type { ResolvedConfig } from '../config/load.ts';
import type { GafferEvents } from '../domain/events.ts';
import type { Logger } from '../domain/logger.ts';
import { capability, type Executor } from '../executors/executor.ts';
import type { BrokerBridge } from './broker-bridge.ts';
import { catalogOf, type Catalog } from './catalog.ts';
import type { WorkerGateway } from './worker-gateway.ts';
import { workerSpec } from './worker-spec.ts';

/**
 * A config reload in two halves around the swap (`Orchestrator.reload`). Invariants: only the
 * diff's LIVE_SECTIONS (the catalog) and live API keys change, everything else is reported as
 * needing a restart; a new queue is declared before the new catalog is in force; running work
 * keeps the definition it started with, and only pool workers whose spec changed (or whose
 * executor says the change needs new workers), or whose type was removed, are retired — drained
 * as in scale-in, never killed busy.
 */
export type Prepared =
  | { ok: true; config: ResolvedConfig; catalog: Catalog; result: ReloadResult }
  | { ok: false; result: ReloadResult };

/** The merged config and its catalog, queues declared; or why the new config is refused. */
export async function prepareReload(
  bridge: Pick<BrokerBridge, 'declareNew'>,
  current: { config: ResolvedConfig; catalog: Catalog; executors: ReadonlyMap<string, unknown> },
  next: ResolvedConfig,
): Promise<Prepared> {
  const diff = diffConfig(current.config, next);
  // Executors are built once, at start: a type naming another kind could never run.
  const unbuilt = Object.entries(next.jobTypes).filter(
    ([, t]) => t.executor && !current.executors.has(t.executor),
  );
  if (unbuilt.length > 0) {
    const errors = unbuilt.map(([name, t]) => ({
      path: `/jobTypes/${name}/executor`,
      message: `is ${t.executor}, an executor this gaffer was not started with: restart to use it`,
    }));
    return { ok: false, result: { ok: false, errors, ...diff } };
  }
  const config: ResolvedConfig = {
    ...current.config,
    ...Object.fromEntries(LIVE_SECTIONS.map((k) => [k, next[k]])),
    auth: diff.keysChanged ? { ...current.config.auth, keys: next.auth.keys } : current.config.auth,
  };
  let catalog: Catalog;
  try {
    catalog = catalogOf(config);
  } catch (err) {
    const errors = [{ path: '/adhoc/name', message: (err as Error).message }];
    return { ok: false, result: { ok: false, errors, ...diff } };
  }
  await bridge.declareNew(current.catalog, catalog);
  return { ok: true, config, catalog, result: { ok: true, ...diff } };
}

export interface ApplyReloadDeps {
  gateway: Pick<WorkerGateway, 'workers' | 'retire'>;
  executor: Pick<Executor, 'replacesWorkers'>;
  events: Pick<GafferEvents, 'emit'>;
  log: Pick<Logger, 'info' | 'warn'>;
}

/** After the swap: retires the stale pool workers, announces and logs what changed. */
export function applyReload(
  d: ApplyReloadDeps,
  previous: Catalog,
  done: Extract<Prepared, { ok: true }>,
): void {
  const { config, catalog, result } = done;
  const stale = (type: string) => {
    const [was, now] = [previous.type(type), catalog.type(type)];
    if (!was || !now) return true;
    const spec = (t: typeof was) => workerSpec(config, type, t);
    return (
      capability.replacesWorkers(d.executor, type, was, now) ||
      !isDeepStrictEqual(spec(was), spec(now))
    );
  };
  for (const type of [...result.changed, ...result.removed].filter(stale)) {
    for (const w of d.gateway.workers(type)) if (w.mode === 'pool') d.gateway.retire(w.id);
  }
  const { added, changed, removed, keysChanged, needsRestart } = result;
  const touched = [...added, ...changed, ...removed];
  if (touched.length > 0) d.events.emit('config:reloaded', { types: touched });
  d.log.info(
    { added, changed, removed, ...(keysChanged ? { keysChanged } : {}) },
    touched.length ? 'config reloaded' : 'config reloaded: no job type changed',
  );
  if (needsRestart.length > 0) {
    const msg = 'config reloaded: these settings need a restart to apply (not applied)';
    d.log.warn({ needsRestart }, msg);
  }
}
