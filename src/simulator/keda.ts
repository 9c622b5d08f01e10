import type { WorkerInfo } from '../domain/events.ts';
import { NO_ACTION, type SimPolicy, type TypeView } from './policy.ts';
import type { Random } from './random.ts';

/**
 * KEDA's algorithms as baselines, with KEDA's and the HPA's defaults. Each model is as simple as
 * the docs allow, and where the simplification errs it errs in KEDA's favour, so that "better
 * than KEDA" is not an artefact of a strawman.
 *
 * Shared assumptions:
 * - The scaler reads a RabbitMQ-style queue length: *ready* messages only (the default
 *   `mode: QueueLength` of the AMQP scaler counts ready messages, not unacked ones —
 *   https://keda.sh/docs/latest/scalers/rabbitmq-queue/ and kedacore/keda #638, #5050).
 * - Polls are not synchronised with the traffic: a burst lands on average half an interval
 *   before the next poll, so the first poll is at interval / 2 (POLL_PHASE). A trace that starts
 *   with a spike at t = 0 would otherwise give KEDA a poll at the very instant of the spike.
 * - Target per replica = the type's `targetPerWorker`, else its concurrency (what gaffer uses),
 *   and min/max replicas = the type's scaling min/max: same traffic, same limits.
 */

/** Where in its interval KEDA's first poll falls: the expected lag of a poll, not the luckiest. */
export const POLL_PHASE = 0.5;

export interface ScaledObjectOptions {
  /** KEDA `pollingInterval` (default 30 s). */
  pollingMs?: number;
  /** First poll (default half the interval, see POLL_PHASE). */
  phaseMs?: number;
  /** HPA `behavior.scaleDown.stabilizationWindowSeconds` (default 300 s). */
  stabilizationMs?: number;
  /** KEDA `cooldownPeriod` (default 300 s), applied only from 1 to 0. */
  cooldownMs?: number;
  /** HPA tolerance on the usage ratio (kube-controller-manager default 0.1). */
  tolerance?: number;
  /** How the ReplicaSet picks pods to delete. */
  victims?: 'newest' | 'random';
}

/**
 * ScaledObject → Deployment + HPA (https://keda.sh/docs/latest/reference/scaledobject-spec/,
 * https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/):
 * - Every `pollingInterval` the metric is read; desired = ceil(ready / target), clamped to
 *   [max(1, min), max] (KEDA gives the HPA a floor of 1; 0 is KEDA's own business).
 * - HPA tolerance: no change while |ready / (target · replicas) − 1| ≤ 0.1.
 * - Scale-up is immediate: stabilization window 0. Generous to KEDA: the real HPA also limits
 *   scale-up to max(+100 %, +4 pods) per 15 s and KEDA first activates 0 → 1 only; neither is
 *   modelled. And the real HPA re-reads the metric every 15 s (its sync period) between
 *   KEDA's polls; here both happen every `pollingInterval`, as the simulator's KEDA model specifies.
 * - Scale-down: the HPA uses the highest recommendation of the last 300 s (stabilization).
 * - 1 → 0 (KEDA, min 0): once the trigger has been inactive (ready = 0) for `cooldownPeriod`
 *   since it was last active; 0 → N as soon as a poll sees ready > 0.
 * - Scale-down deletes pods without regard to what they run: the ReplicaSet prefers pending,
 *   then not-ready pods, then the newest
 *   (https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#scaling-a-replicaset);
 *   `victims: 'random'` picks uniformly instead (seeded). A deleted pod's jobs are lost and
 *   redelivered — no terminationGracePeriod drain is assumed, since a worker that handled
 *   SIGTERM by finishing its job is exactly what KEDA users report they do not get
 *   (kedacore/keda #2900, #6719).
 */
export function kedaScaledObject(options: ScaledObjectOptions = {}): SimPolicy {
  const pollingMs = options.pollingMs ?? 30_000;
  const stabilizationMs = options.stabilizationMs ?? 300_000;
  const cooldownMs = options.cooldownMs ?? 300_000;
  const tolerance = options.tolerance ?? 0.1;
  const victims = options.victims ?? 'newest';
  return {
    name: 'KEDA ScaledObject',
    intervalMs: pollingMs,
    phaseMs: options.phaseMs ?? pollingMs * POLL_PHASE,
    tickOnArrival: false,
    oneShot: false,
    init: (_trace, rng) => {
      const state = new Map<string, { recs: { at: number; n: number }[]; lastActive: number }>();
      return (view) => {
        const s = state.get(view.type) ?? { recs: [], lastActive: -Infinity };
        state.set(view.type, s);
        const { min, max } = view.config.scaling;
        const target = view.config.scaling.targetPerWorker ?? view.config.concurrency;
        const current = view.workers.length;
        const active = view.ready > 0;
        if (active) s.lastActive = view.now;
        const next = nextReplicas();
        if (next > current) return { start: next - current, drain: [], kill: [] };
        if (next < current) {
          const pick = victims === 'random' ? randomVictims : newestVictims;
          return { start: 0, drain: [], kill: pick(view.workers, current - next, rng) };
        }
        return NO_ACTION;

        function nextReplicas(): number {
          const floor = Math.max(1, min);
          if (current === 0) {
            if (!active && min === 0) return 0;
            s.recs = [];
          } else if (min === 0 && !active && view.now - s.lastActive >= cooldownMs) {
            s.recs = [];
            return 0;
          }
          let desired = Math.ceil(view.ready / target);
          if (current > 0 && Math.abs(view.ready / (target * current) - 1) <= tolerance) {
            desired = current;
          }
          desired = Math.min(max, Math.max(floor, desired));
          s.recs = s.recs.filter((r) => view.now - r.at < stabilizationMs);
          s.recs.push({ at: view.now, n: desired });
          if (desired > current) return desired;
          const down = Math.max(...s.recs.map((r) => r.n));
          return Math.min(current, down);
        }
      };
    },
  };
}

/** Pending first, then starting (not ready), then the newest; ties by id, last started first. */
function newestVictims(workers: readonly WorkerInfo[], n: number): string[] {
  const rank = (w: WorkerInfo) => (w.waitingFor ? 0 : w.state === 'starting' ? 1 : 2);
  return [...workers]
    .sort(
      (a, b) =>
        rank(a) - rank(b) ||
        b.startedAt - a.startedAt ||
        Number(b.id.slice(b.id.lastIndexOf('-') + 1)) -
          Number(a.id.slice(a.id.lastIndexOf('-') + 1)),
    )
    .slice(0, n)
    .map((w) => w.id);
}

function randomVictims(workers: readonly WorkerInfo[], n: number, rng: Random): string[] {
  const pool = workers.map((w) => w.id);
  const out: string[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(rng.int(pool.length), 1)[0]!);
  return out;
}

/**
 * ScaledJob, `scalingStrategy.strategy: default`
 * (https://keda.sh/docs/latest/reference/scaledjob-spec/#scalingstrategy): every
 * `pollingInterval`, create min(ready − running, max − running) Jobs, where `running` counts
 * Jobs not finished (pending, starting or running — including the ones that already took their
 * message, which is why the default strategy under-provisions, kedacore/keda #1222). One
 * message per Job; each Job takes one job, runs it and exits, so nothing is ever killed.
 */
export function kedaScaledJob(options: { pollingMs?: number; phaseMs?: number } = {}): SimPolicy {
  const pollingMs = options.pollingMs ?? 30_000;
  return {
    name: 'KEDA ScaledJob',
    intervalMs: pollingMs,
    phaseMs: options.phaseMs ?? pollingMs * POLL_PHASE,
    tickOnArrival: false,
    oneShot: true,
    init: () => (view: TypeView) => {
      const running = view.workers.length;
      const max = view.config.scaling.max;
      const create = Math.min(view.ready - running, max - running);
      return create > 0 ? { start: create, drain: [], kill: [] } : NO_ACTION;
    },
  };
}
