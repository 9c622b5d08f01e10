import type { WorkerInfo } from '../domain/events.ts';
import { NO_ACTION, type Actions, type SimPolicy, type TypeView } from './policy.ts';

/**
 * KEDA as it behaves with its and Kubernetes' defaults, as baselines. The rules are pure functions
 * (`hpaUsageReplicas`, `hpaScaleUpLimit`, `hpaSync`, `kedaPoll`, `scaledJobCreates`) with table
 * tests; `kedaScaledObject` and `kedaScaledJob` wire them to the simulator.
 *
 * Sources, per default:
 * - KEDA ScaledObject (https://keda.sh/docs/latest/reference/scaledobject-spec/): `pollingInterval`
 *   30 s, `cooldownPeriod` 300 s (only from 1 to 0), `minReplicaCount` 0; KEDA itself scales 0 → 1
 *   at a poll that finds the trigger active (metric > `activationValue`, default 0) and 1 → 0
 *   once it has been inactive for the cooldown; in between the HPA it creates scales
 *   (https://keda.sh/docs/latest/concepts/scaling-deployments/; kedacore/keda
 *   pkg/scaling/executor/scale_scaledobjects.go: `RequestScale`, `scaleFromZero`, `scaleToZero`,
 *   which also moves `lastActiveTime` at every active poll). The HPA's `minReplicas` is
 *   max(1, minReplicaCount) (controllers/keda/hpa.go, `getHPAMinReplicas`); at 0 replicas the HPA
 *   does nothing ("ScalingDisabled").
 * - KEDA sets the HPA's `behavior` only from `advanced.horizontalPodAutoscalerConfig`
 *   (controllers/keda/hpa.go, `newHPAForScaledObject`): by default it is nil, and
 *   kube-controller-manager's HPA (kubernetes/kubernetes
 *   pkg/controller/podautoscaler/horizontal.go, `normalizeDesiredReplicas`) then applies its
 *   built-in rules: sync every 15 s (`--horizontal-pod-autoscaler-sync-period`), each sync's
 *   replicas at most max(2 × current, 4) (`calculateScaleUpLimit`: +100 % or 4 pods per 15 s),
 *   no scale-up stabilization, scale-down to the highest recommendation of the last 300 s
 *   (`--horizontal-pod-autoscaler-downscale-stabilization`), tolerance 0.1
 *   (`--horizontal-pod-autoscaler-tolerance`). The documented default `behavior`
 *   (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#default-behavior:
 *   max(+4 pods, +100 %) per 15 s, 300 s down, 100 % per 15 s down) differs only below 4 replicas.
 * - The metric is an external `AverageValue` metric: desired = ceil(queue length / target), unless
 *   |queue length / (target × current) − 1| ≤ tolerance (replica_calculator.go,
 *   `GetExternalMetricReplicas` → `getUsageRatioReplicaCount`). The HPA reads it through KEDA's
 *   metrics server at its own 15 s sync, not at KEDA's polls.
 * - Queue length = *ready* messages: the RabbitMQ scaler's `mode: QueueLength` over AMQP (the
 *   protocol `auto` picks for an amqp:// host) reads the queue's message count from
 *   queue.declare, which excludes unacknowledged ones
 *   (https://keda.sh/docs/latest/scalers/rabbitmq-queue/; kedacore/keda #638, #5050).
 * - Scale-down deletes pods as the ReplicaSet controller ranks them with no
 *   `controller.kubernetes.io/pod-deletion-cost`: unscheduled, then not ready, then the newest
 *   (https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#scaling-a-replicaset).
 *   Busyness plays no part, so a busy pod can be picked. A deleted pod gets SIGTERM and
 *   `terminationGracePeriodSeconds` (default 30 s) to finish: a job that ends within the grace is
 *   done; one still running at its end is killed (SIGKILL) and its message redelivered.
 * - ScaledJob (https://keda.sh/docs/latest/reference/scaledjob-spec/#scalingstrategy): every
 *   `pollingInterval`, scalingStrategy `default`: create maxScale − running Jobs, maxScale =
 *   min(ceil(queue length / target), `maxReplicaCount`) (kedacore/keda
 *   pkg/scaling/executor/scale_jobs.go, `defaultScalingStrategy`, `NewScalingStrategy`: any
 *   strategy but `custom`/`accurate` is `default`); `running` counts Jobs not finished —
 *   including ones that already took their message, which is why `default` under-provisions
 *   (kedacore/keda #1222). `default` is the strategy a ScaledJob gets when none is set. One
 *   message per Job (target 1); a Job starts after the start-up delay, takes one message, runs
 *   it and ends.
 *
 * Simplifications, and which way each leans:
 * - The metric counts ready messages only (see above): what the default AMQP protocol reports. It
 *   makes KEDA cheaper and slower than a count including unacknowledged messages would, and it
 *   is why a long job can be scaled away under KEDA (kills, re-runs). Both ways, as KEDA does.
 * - Polls and syncs are evenly spaced with fixed phases (HPA at 7.5 s + 15 s·k, KEDA at 15 s +
 *   30 s·k): a burst at a random time waits on average half a period for either, as here for a
 *   burst at t = 0. Neutral on average; real syncs drift a little later (slightly generous).
 * - The metric is read instantly and exactly (no metrics-server latency, no scrape error, no
 *   `fallback`): generous to KEDA.
 * - The cooldown ends at a poll exactly `cooldownPeriod` after the last active one (KEDA checks
 *   lastActiveTime + cooldown before now; real polls run a little late, so they pass that check
 *   where evenly spaced ones would tie). Neutral.
 * - Victims: newest first among ready pods. The ReplicaSet's LogarithmicScaleDown buckets ages on a
 *   log scale and breaks ties randomly, and also prefers pods doubled up on a node; with one pod
 *   per node and no restarts "newest" is what it picks up to that bucketing. Neutral.
 * - A SIGTERMed pod stops taking messages at once and finishes what it holds (a well-behaved
 *   worker); a worker that ignores SIGTERM would be killed at once. Generous to KEDA.
 * - A terminating pod no longer counts as a replica (as the Deployment's spec.replicas), but
 *   it costs worker-seconds and takes a capacity slot until it exits. Exact.
 * - No pod scheduling or image pull beyond the start-up delay, no node autoscaling: the same for
 *   every policy.
 * - ScaledJob: Jobs never fail or retry; finished Jobs cost nothing after they end. Neutral.
 * - KEDA's `initialCooldownPeriod`, `idleReplicaCount` and `fallback` are not modelled (defaults
 *   0, unset, unset: they do nothing by default). Exact.
 */

/** The HPA's sync period and KEDA's polling interval, ms (defaults). */
export const HPA_SYNC_MS = 15_000;
export const KEDA_POLL_MS = 30_000;
/** `terminationGracePeriodSeconds` default, ms. */
export const GRACE_MS = 30_000;
/** The HPA's first sync and KEDA's first poll: half a period in, the expected lag of each. */
const HPA_PHASE_MS = HPA_SYNC_MS / 2;
const KEDA_PHASE_MS = KEDA_POLL_MS / 2;

/**
 * `getUsageRatioReplicaCount` for an AverageValue external metric: ceil(metric / target), or the
 * current count when the usage ratio is within the tolerance of 1. At 0 replicas no tolerance.
 */
export function hpaUsageReplicas(
  metric: number,
  target: number,
  current: number,
  tolerance = 0.1,
): number {
  if (current > 0 && Math.abs(metric / (target * current) - 1) <= tolerance) return current;
  return Math.ceil(metric / target);
}

/** `calculateScaleUpLimit`: the most replicas one sync may ask for. */
export function hpaScaleUpLimit(current: number): number {
  return Math.max(2 * current, 4);
}

export interface HpaRecommendation {
  at: number;
  replicas: number;
}

export interface HpaInput {
  now: number;
  metric: number;
  /** spec.replicas: pods not terminating. */
  current: number;
  target: number;
  /** minReplicas: KEDA's max(1, minReplicaCount). */
  min: number;
  max: number;
  tolerance?: number;
  /** Scale-down stabilization window (default 300 s). */
  stabilizationMs?: number;
}

/**
 * One HPA sync (behavior nil, the KEDA default): the usage rule, then the highest recommendation
 * of the stabilization window (this one included), then the scale-up limit and [min, max].
 * Returns the replicas and the recommendations to keep (this sync's raw one appended). At 0
 * replicas the HPA is disabled: nothing changes and nothing is recorded.
 */
export function hpaSync(
  recs: readonly HpaRecommendation[],
  input: HpaInput,
): { replicas: number; recs: HpaRecommendation[] } {
  const { now, current } = input;
  if (current === 0) return { replicas: 0, recs: [...recs] };
  const windowMs = input.stabilizationMs ?? 300_000;
  const raw = hpaUsageReplicas(input.metric, input.target, current, input.tolerance ?? 0.1);
  const kept = recs.filter((r) => r.at > now - windowMs);
  const stabilized = Math.max(raw, ...kept.map((r) => r.replicas));
  const limit = Math.min(input.max, hpaScaleUpLimit(current));
  const replicas = Math.max(input.min, Math.min(limit, stabilized));
  return { replicas, recs: [...kept, { at: now, replicas: raw }] };
}

export interface KedaState {
  /** The last poll that found the trigger active; -Infinity: never. */
  lastActive: number;
}

/**
 * One KEDA poll of a ScaledObject: active = metric > activationValue. Active at 0 replicas: to
 * max(1, minReplicaCount). Inactive for the cooldown (minReplicaCount 0): to 0. Below
 * minReplicaCount: to it. Otherwise null (the HPA's business).
 */
export function kedaPoll(
  state: KedaState,
  input: {
    now: number;
    metric: number;
    current: number;
    min: number;
    activation?: number;
    cooldownMs?: number;
  },
): { replicas: number | null; state: KedaState } {
  const active = input.metric > (input.activation ?? 0);
  const lastActive = active ? input.now : state.lastActive;
  const cooldownMs = input.cooldownMs ?? 300_000;
  let replicas: number | null = null;
  if (active && input.current === 0) replicas = Math.max(1, input.min);
  else if (input.current < input.min) replicas = input.min;
  else if (
    !active &&
    input.min === 0 &&
    input.current > 0 &&
    input.now - lastActive >= cooldownMs
  ) {
    replicas = 0;
  }
  return { replicas, state: { lastActive } };
}

/** ScaledJob, strategy `default`: Jobs to create at a poll. */
export function scaledJobCreates(
  metric: number,
  target: number,
  running: number,
  maxReplicaCount: number,
): number {
  const maxScale = Math.min(Math.ceil(metric / target), maxReplicaCount);
  return Math.max(0, maxScale - running);
}

export interface ScaledObjectOptions {
  /** Messages per replica: the trigger's `value` (AverageValue target; default 1). */
  target?: number;
  name?: string;
  /** KEDA `cooldownPeriod` (default 300 s). */
  cooldownMs?: number;
  /** HPA scale-down stabilization (default 300 s). */
  stabilizationMs?: number;
  /** `terminationGracePeriodSeconds` (default 30 s). */
  graceMs?: number;
}

/**
 * A ScaledObject over a Deployment of the type's workers, `target` ready messages per replica,
 * min/max replicas = the type's scaling min/max. Ticks every 7.5 s; the HPA acts at its syncs,
 * KEDA at its polls (see the header for both schedules).
 */
export function kedaScaledObject(options: ScaledObjectOptions = {}): SimPolicy {
  const target = options.target ?? 1;
  return {
    name: options.name ?? `keda-t${target}`,
    intervalMs: HPA_PHASE_MS,
    phaseMs: HPA_PHASE_MS,
    tickOnArrival: false,
    oneShot: false,
    graceMs: options.graceMs ?? GRACE_MS,
    init: () => {
      const state = new Map<string, { recs: HpaRecommendation[]; keda: KedaState }>();
      return (view) => {
        const s = state.get(view.type) ?? { recs: [], keda: { lastActive: -Infinity } };
        state.set(view.type, s);
        const { min, max } = view.config.scaling;
        const replicas = view.workers.filter((w) => w.state !== 'draining');
        const current = replicas.length;
        let next = current;
        if ((view.now - KEDA_PHASE_MS) % KEDA_POLL_MS === 0) {
          const poll = kedaPoll(s.keda, {
            now: view.now,
            metric: view.ready,
            current,
            min,
            ...(options.cooldownMs !== undefined ? { cooldownMs: options.cooldownMs } : {}),
          });
          s.keda = poll.state;
          if (poll.replicas !== null) next = poll.replicas;
        }
        if (next === current && (view.now - HPA_PHASE_MS) % HPA_SYNC_MS === 0) {
          const sync = hpaSync(s.recs, {
            now: view.now,
            metric: view.ready,
            current,
            target,
            min: Math.max(1, min),
            max,
            ...(options.stabilizationMs !== undefined
              ? { stabilizationMs: options.stabilizationMs }
              : {}),
          });
          s.recs = sync.recs;
          next = sync.replicas;
        }
        return resize(replicas, next);
      };
    },
  };
}

function resize(replicas: readonly WorkerInfo[], next: number): Actions {
  if (next > replicas.length) return { start: next - replicas.length, drain: [], kill: [] };
  if (next < replicas.length) {
    return { start: 0, drain: [], kill: replicaSetVictims(replicas, replicas.length - next) };
  }
  return NO_ACTION;
}

/**
 * The ReplicaSet's deletion order without pod-deletion-cost: unscheduled (waiting for room), then
 * not ready, then the newest; ties by id, the last started first. Busy or not.
 */
export function replicaSetVictims(workers: readonly WorkerInfo[], n: number): string[] {
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

/**
 * A ScaledJob, strategy `default`, one message per Job, `maxReplicaCount` = the type's max,
 * polled every 30 s (first poll at 15 s).
 */
export function kedaScaledJob(options: { name?: string } = {}): SimPolicy {
  return {
    name: options.name ?? 'keda-scaledjob',
    intervalMs: KEDA_POLL_MS,
    phaseMs: KEDA_PHASE_MS,
    tickOnArrival: false,
    oneShot: true,
    init: () => (view: TypeView) => {
      const create = scaledJobCreates(view.ready, 1, view.workers.length, view.config.scaling.max);
      return create > 0 ? { start: create, drain: [], kill: [] } : NO_ACTION;
    },
  };
}

/** The KEDA settings every report compares against. */
export function kedaSettings(): SimPolicy[] {
  return [
    kedaScaledObject({ target: 1 }),
    kedaScaledObject({ target: 5 }),
    kedaScaledObject({ target: 20 }),
    kedaScaledJob(),
  ];
}
