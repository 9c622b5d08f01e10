import { DesiredHistory } from '../autoscaler/activity.ts';
import type { Burst } from '../autoscaler/anticipate.ts';
import { StartupDelays } from '../autoscaler/warm-signals.ts';
import { applyCapacity } from '../autoscaler/capacity.ts';
import { POKE_GAP_MS } from '../autoscaler/control-loop.ts';
import type { DecideFn, Decision, Observation } from '../autoscaler/policy.ts';
import { historyKeepMs } from '../autoscaler/rules.ts';
import type { WorkerInfo } from '../domain/events.ts';
import type { DispatchOrder } from './executor.ts';
import type { Random } from './random.ts';
import type { Trace, TraceType } from './trace.ts';

/**
 * What a scaling policy sees and does in the simulator. Every policy — gaffer's real `decide`
 * behind an adapter, the KEDA models, the lower bound — speaks this, so the event loop treats
 * them alike.
 */
export interface TypeView {
  now: number;
  type: string;
  config: TraceType;
  /** Jobs queued and not held by any worker (a broker's ready messages). */
  ready: number;
  /** Jobs held by workers. */
  inFlight: number;
  /** Live workers, as gaffer's WorkerInfo (a worker waiting for capacity is `starting`). */
  workers: readonly WorkerInfo[];
  /** Arrivals per second over the last minute (what gaffer's control loop counts). */
  arrivalRate: number;
  /** Median of the type's last 101 run times, ms; null before the first ends. */
  runP50Ms: number | null;
  /** Mean of the same run times, ms; null before the first ends. */
  runMeanMs: number | null;
  /** Median age of the type's jobs in flight, ms; null when none is. */
  inFlightAgeP50Ms: number | null;
  /** When the type's last job ended; null before the first. */
  lastFinishedAt: number | null;
  /** The type's recent bursts of arrivals (what gaffer's control loop logs); absent: none. */
  bursts?: readonly Burst[];
}

export interface Actions {
  start: number;
  /** Stop taking work, stop when done (gaffer's retire). */
  drain: string[];
  /**
   * Stop now, whatever the worker holds (a ReplicaSet's scale-down); with the policy's `graceMs`,
   * SIGTERM first: it takes nothing new, and only what it still runs at the grace's end is killed.
   */
  kill: string[];
}

export const NO_ACTION: Actions = { start: 0, drain: [], kill: [] };

export interface SimPolicy {
  name: string;
  /** Ticks at phase, phase + interval, phase + 2·interval, … */
  intervalMs: number;
  /** First tick (default 0). */
  phaseMs?: number;
  /**
   * Also tick when poked, as gaffer's control loop is (src/jobs/events-wiring.ts): right after
   * jobs arrive for a type with no live worker, and right after a worker stops.
   */
  tickOnArrival: boolean;
  /**
   * Ticks start at least this far apart: one due sooner — periodic or poked — waits for the rest
   * of the gap (gaffer's POKE_GAP_MS). Default 0.
   */
  pokeGapMs?: number;
  /** A killed worker's termination grace, ms (default 0: killed at once). */
  graceMs?: number;
  /** Workers run one job and exit (KEDA ScaledJob). */
  oneShot: boolean;
  /**
   * Which ready worker takes a queued job: `spread` (default, a broker's round robin) or `pack`
   * (gaffer's gateway: the busiest worker with room).
   */
  dispatch?: DispatchOrder;
  /** Workers are never removed (the lower bound): the run ends when the last job does. */
  holdsForever?: boolean;
  /** Fresh state for one run; the returned function is called per type per tick. */
  init(trace: Trace, rng: Random): (view: TypeView) => Actions;
  /**
   * Instead of `init`: one call per tick with every type's view, one Actions per view (a policy
   * that shares a global capacity across types, as gaffer's control loop does).
   */
  initAll?(trace: Trace, rng: Random): (views: readonly TypeView[]) => Actions[];
}

/**
 * Any gaffer DecideFn, fed a real Observation each tick, exactly as the control loop builds it:
 * arrivals, run times, last end and bursts from the job events; start-up delays measured from the
 * workers it sees; the history of desired counts the loop keeps; the trace's `capacity` as `autoscaler.capacity`, shared across types by `applyCapacity`.
 * Retire means drain; the policy's own promise (invariant 5) is that it only names idle workers,
 * and the event loop checks it.
 */
export function gafferPolicy(
  decide: DecideFn,
  options: { name?: string; intervalMs?: number; phaseMs?: number } = {},
): SimPolicy {
  const intervalMs = options.intervalMs ?? 1000;
  const observe = (
    view: TypeView,
    history: DesiredHistory,
    startups: StartupDelays,
  ): Observation => {
    startups.observe(view.type, view.workers, view.now);
    return {
      type: view.type,
      mode: 'pool',
      now: view.now,
      ready: view.ready,
      inFlight: view.inFlight,
      workers: view.workers,
      concurrency: view.config.concurrency,
      arrivalRate: view.arrivalRate,
      runP50Ms: view.runP50Ms,
      runMeanMs: view.runMeanMs,
      inFlightAgeP50Ms: view.inFlightAgeP50Ms,
      lastFinishedAt: view.lastFinishedAt,
      history: history.get(view.type),
      startupMs: startups.p90(view.type),
      tickMs: intervalMs,
      bursts: view.bursts ?? [],
    };
  };
  return {
    name: options.name ?? 'gaffer',
    intervalMs,
    phaseMs: options.phaseMs ?? 0,
    tickOnArrival: true,
    pokeGapMs: POKE_GAP_MS,
    oneShot: false,
    // Without a broker, gaffer's gateway hands a new job to the busiest waiting worker.
    dispatch: 'pack',
    init: () => {
      const history = new DesiredHistory();
      const startups = new StartupDelays();
      return (view) => {
        const d = decide(observe(view, history, startups), view.config.scaling);
        remember(history, view, d);
        return { start: d.start, drain: d.retire, kill: [] };
      };
    },
    initAll: (trace) => {
      const history = new DesiredHistory();
      const startups = new StartupDelays();
      return (views) => {
        const items = views.map((v) => ({
          obs: observe(v, history, startups),
          scaling: v.config.scaling,
        }));
        const decisions = items.map((i) => decide(i.obs, i.scaling));
        views.forEach((v, i) => remember(history, v, decisions[i]!));
        return applyCapacity(items, decisions, trace.capacity).map((d) => ({
          start: d.start,
          drain: d.retire,
          kill: [],
        }));
      };
    },
  };
}

function remember(history: DesiredHistory, view: TypeView, d: Decision): void {
  const keepMs = historyKeepMs(view.config.scaling);
  history.push(view.type, view.now, d.inputs.desired ?? d.to, keepMs, d.inputs.needed);
}

/**
 * The lower bound: every type's max workers started at t = 0, never removed. Used when
 * the types' maxima fit in the global capacity (or there is none); when the capacity binds, the
 * suite uses `sharedCapacityBound` (bound.ts) instead — a fixed split of the capacity between
 * types is not a floor. `allotment` below is that old fixed split, kept for callers that replay a
 * trace with this policy directly (proportional to each type's max, largest remainder).
 */
export function lowerBound(): SimPolicy {
  return {
    name: 'lower bound',
    intervalMs: Infinity,
    tickOnArrival: false,
    oneShot: false,
    holdsForever: true,
    init: (trace) => {
      const allot = allotment(trace);
      const started = new Set<string>();
      return (view) => {
        if (started.has(view.type)) return NO_ACTION;
        started.add(view.type);
        return { start: allot[view.type] ?? 0, drain: [], kill: [] };
      };
    },
  };
}

export function allotment(trace: Trace): Record<string, number> {
  const names = Object.keys(trace.types);
  const max = names.map((n) => trace.types[n]!.scaling.max);
  const total = max.reduce((a, b) => a + b, 0);
  const capacity = trace.capacity ?? Infinity;
  if (total <= capacity) return Object.fromEntries(names.map((n, i) => [n, max[i]!]));
  const exact = max.map((m) => (m * capacity) / total);
  const out = exact.map(Math.floor);
  let left = capacity - out.reduce((a, b) => a + b, 0);
  const order = names
    .map((_, i) => i)
    .sort((a, b) => exact[b]! - out[b]! - (exact[a]! - out[a]!) || a - b);
  for (const i of order) {
    if (left-- <= 0) break;
    out[i]!++;
  }
  return Object.fromEntries(names.map((n, i) => [n, out[i]!]));
}
