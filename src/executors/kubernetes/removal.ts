import type { V1Pod } from '@kubernetes/client-node';
import { live } from './pool-pods.ts';
import { compareRanks, deletionRank, marked, unschedulable } from './pod-rank.ts';

/**
 * One step of removing exactly one idle pool pod, never another — pure: what to do next, given
 * the pod's Deployment's pods as the informer shows them and the time. The caller
 * (`pool-removal.ts`) has marked the pod cheapest to delete (`pod-deletion-cost`), performs each
 * action, and asks again; it runs one removal at a time per Deployment, scale-outs queued behind.
 *
 * The contract:
 * 1. The replicas are lowered (from the live pod count, only if they still equal it: else the
 *    ReplicaSet has a pod to create or delete of its own) only when the ReplicaSet's ranking
 *    (`pod-rank.ts`) puts no pod before the chosen one or level with it — or only pods gaffer is
 *    removing anyway, any of which is a right choice. Otherwise it would take one that ranks
 *    first (unassigned, Pending, not Ready: the pod a scale-out just created), and deleting the
 *    chosen pod by name would make it create a replacement no worker waits for.
 * 2. Pods ranked before it that all found no node will not settle (they may wait for the very
 *    room this removal frees): the first is removed first, the same way (its worker never
 *    connected, so it holds nothing). A mark left by an earlier gaffer, on a pod this one is not
 *    removing, ties with ours: it is cleared.
 * 3. Lowered with the chosen pod first: the ReplicaSet should delete it. Should the live count
 *    drop while it stays (the ReplicaSet took another pod), or nothing happen for `SETTLE_MS`,
 *    it is deleted by name: gaffer's choice goes. Lowered with pods level with it: wait for the
 *    count to drop, then look again.
 * 4. Pods that do not settle within `SETTLE_MS` of the start: the replicas lowered by one and the
 *    pod deleted by name regardless (the ReplicaSet may then choose another) — a bound on how
 *    long one removal holds its Deployment's other changes.
 * 5. Between changes: look again at the next event of the Deployment's pods, or `RECHECK_MS`
 *    later (a relist reports no unchanged pod). The chosen pod no longer live: done.
 */

export const SETTLE_MS = 30_000;
export const RECHECK_MS = 1_000;

export type RemovalState =
  /** Waiting for the pods to settle so the replicas can be lowered; `refused`: the last try was. */
  | { phase: 'settling'; deadline: number; refused: boolean }
  /** Lowered with other pods level with the chosen one: waiting for at most `live` live pods. */
  | { phase: 'shrinking'; deadline: number; live: number }
  /** Lowered with the chosen pod first: waiting for the ReplicaSet to delete it. */
  | { phase: 'deleting'; deadline: number; live: number };

export interface RemovalInput {
  /** The pod being removed (marked cheapest). */
  pod: string;
  /** Its Deployment's pods, as the informer shows them (any phase, being deleted or not). */
  pods: readonly V1Pod[];
  /** Pods gaffer is removing (marked by this process, or about to be). */
  removing: ReadonlySet<string>;
  state: RemovalState;
  now: number;
}

export type RemovalAction =
  | { do: 'done' }
  /** Mark `pod` cheapest and remove it first (a removal of its own), then look again. */
  | { do: 'remove-first'; pod: string }
  /** Clear these pods' deletion cost, then look again. */
  | { do: 'unmark'; pods: string[] }
  /** Set the replicas `from` → `to` if they still equal `from`; the next state either way. */
  | { do: 'lower'; from: number; to: number; lowered: RemovalState; refused: RemovalState }
  /** Delete `pod` by name (`lowerFirst`: one replica fewer first); the removal is over. */
  | { do: 'delete'; pod: string; lowerFirst: boolean }
  /** Look again at the next change of the pods or at `until`, in state `next`. */
  | { do: 'wait'; until: number; next: RemovalState };

export type RemovalReason =
  | 'gone' // the chosen pod is no longer live: deleted, by the ReplicaSet or someone else
  | 'unschedulable_first' // every pod ranked before it found no node
  | 'stale_mark' // an earlier gaffer's mark ties with ours
  | 'ranked_first' // no pod ranks before it or level with it
  | 'level_with_removed' // only pods gaffer is removing rank with it
  | 'unsettled' // other pods rank before it: wait
  | 'refused' // the replicas changed, or the Deployment did (409): wait
  | 'settle_timeout' // not settled in time: removed by name regardless
  | 'shrinking' // lowered: waiting for the live count to drop
  | 'awaiting_deletion' // lowered: waiting for the ReplicaSet to delete it
  | 'another_taken' // the count dropped but it stays: the ReplicaSet took another
  | 'deletion_timeout'; // the ReplicaSet did not act in time

export interface RemovalStep {
  action: RemovalAction;
  reason: RemovalReason;
}

export function startRemoval(now: number): RemovalState {
  return { phase: 'settling', deadline: now + SETTLE_MS, refused: false };
}

export function removalStep(input: RemovalInput): RemovalStep {
  const { state, now } = input;
  if (state.phase === 'settling') return settling(input, state);
  const s = standing(input.pods, input.pod);
  if (state.phase === 'shrinking') {
    if (s.live > state.live && now <= state.deadline) return wait('shrinking', now, state);
    return settling(input, { phase: 'settling', deadline: state.deadline, refused: false });
  }
  if (!s.chosen) return { action: { do: 'done' }, reason: 'gone' };
  if (s.live <= state.live) return byName(input.pod, false, 'another_taken');
  if (now > state.deadline) return byName(input.pod, false, 'deletion_timeout');
  return wait('awaiting_deletion', now, state);
}

function settling(
  input: RemovalInput,
  state: Extract<RemovalState, { phase: 'settling' }>,
): RemovalStep {
  const { pod, removing, now } = input;
  if (!state.refused) {
    const s = standing(input.pods, pod);
    if (!s.chosen) return { action: { do: 'done' }, reason: 'gone' };
    const { blockers } = s;
    if (blockers.length > 0 && blockers.every(unschedulable)) {
      return {
        action: { do: 'remove-first', pod: nameOf(blockers[0]!) },
        reason: 'unschedulable_first',
      };
    }
    const stale = blockers.filter((b) => marked(b) && !removing.has(nameOf(b)));
    if (stale.length > 0) {
      return { action: { do: 'unmark', pods: stale.map(nameOf) }, reason: 'stale_mark' };
    }
    if (blockers.every((b) => removing.has(nameOf(b)))) {
      const to = s.live - 1;
      const lowered: RemovalState =
        blockers.length === 0
          ? { phase: 'deleting', deadline: now + SETTLE_MS, live: to }
          : { phase: 'shrinking', deadline: state.deadline, live: to };
      return {
        action: { do: 'lower', from: s.live, to, lowered, refused: { ...state, refused: true } },
        reason: blockers.length === 0 ? 'ranked_first' : 'level_with_removed',
      };
    }
  }
  if (now > state.deadline) return byName(pod, true, 'settle_timeout');
  return wait(state.refused ? 'refused' : 'unsettled', now, { ...state, refused: false });
}

function byName(pod: string, lowerFirst: boolean, reason: RemovalReason): RemovalStep {
  return { action: { do: 'delete', pod, lowerFirst }, reason };
}

function wait(reason: RemovalReason, now: number, next: RemovalState): RemovalStep {
  return { action: { do: 'wait', until: now + RECHECK_MS, next }, reason };
}

function nameOf(pod: V1Pod): string {
  return pod.metadata?.name ?? '';
}

/**
 * The live pods' count, whether `name` is one, and which others rank before it or level with it
 * in the ReplicaSet's order.
 */
function standing(pods: readonly V1Pod[], name: string) {
  const alive = pods.filter(live);
  const chosen = alive.find((p) => p.metadata?.name === name);
  const key = chosen && deletionRank(chosen);
  const blockers = key
    ? alive.filter((p) => p !== chosen && compareRanks(deletionRank(p), key) <= 0)
    : [];
  return { live: alive.length, chosen, blockers };
}
