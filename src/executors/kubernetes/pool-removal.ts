import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../domain/logger.ts';
import type { KubeApi } from './api.ts';
import { CHEAPEST } from './pod-rank.ts';
import { deploymentOf, typeOf } from './pool-pods.ts';
import type { PoolRevisions, Revision } from './pool-revisions.ts';
import { removalStep, startRemoval } from './removal.ts';
import type { TimedClock } from '../../domain/clock.ts';

/**
 * Removes exactly one idle pool pod, never another: the I/O around the pure `removalStep`
 * (`removal.ts`, which states the rule). The pod is marked the cheapest to delete — the
 * ReplicaSet takes it before any other Running and Ready one (busy pods keep the default cost) —
 * then each step's action is performed against the API, and the next step asked for, at each
 * event of the Deployment's pods (`changed`) or at the step's re-check time.
 *
 * Contract: `remove` runs in its revision's `serial` (scale-outs wait meanwhile, so pods in
 * transit settle and no new ones appear), announces the pod on `removing` once, logs rather than
 * throws (nothing awaits it), and after the removal drops an older revision's emptied Deployment.
 * A pod gone before it is marked (404) has been replaced by the ReplicaSet already: nothing is
 * lowered then, since the ReplicaSet would choose among pods none of which gaffer marked.
 */
export interface PoolRemoval {
  remove(pod: V1Pod, workerId: string): Promise<void>;
  /** Pods gaffer is removing: a worker restarting in one is refused (it is going away). */
  readonly removing: Set<string>;
  /** An event of one of the Deployment's pods: removals waiting on it look again. */
  changed(deployment: string | undefined): void;
}

export interface PoolRemovalOptions {
  api: Pick<KubeApi, 'setDeletionCost' | 'readScale' | 'patchScale' | 'deletePod'>;
  revisions: Pick<PoolRevisions, 'of' | 'get' | 'isCurrent' | 'dropLater' | 'serial' | 'scale'>;
  /** The Deployment's pods, from the pods informer's cache. */
  podsOf(deployment: string): readonly V1Pod[];
  /** The worker bound to a pod, if any (announced with a pod gaffer chose itself). */
  workerOf(pod: string): string | undefined;
  /** Announces each pod gaffer removes, with its worker. */
  announce(pod: string, workerId: string): void;
  clock: TimedClock;
  log: Pick<Logger, 'warn' | 'error'>;
}

export function createPoolRemoval(o: PoolRemovalOptions): PoolRemoval {
  const { api, revisions, clock, log } = o;
  const removing = new Set<string>();

  async function remove(pod: V1Pod, workerId: string): Promise<void> {
    const name = pod.metadata!.name!;
    if (removing.has(name)) return;
    removing.add(name);
    o.announce(name, workerId);
    const rev = revisions.of(typeOf(pod)!, deploymentOf(pod)!);
    await revisions
      .serial(rev, async () => {
        if ((await api.setDeletionCost(name, CHEAPEST)) === 'set') await takeOut(rev, name);
      })
      .catch((err: unknown) =>
        log.error({ err, pod: name }, 'kubernetes: removing an idle pod failed'),
      );
    if (!revisions.isCurrent(rev)) await revisions.dropLater(rev);
  }

  /** Performs `removalStep`'s actions until the pod is being deleted or gone. */
  async function takeOut(rev: Revision, name: string): Promise<void> {
    let state = startRemoval(clock.now());
    for (;;) {
      const now = clock.now();
      const input = { pod: name, pods: o.podsOf(rev.deployment), removing, state, now };
      const { action, reason } = removalStep(input);
      switch (action.do) {
        case 'done':
          return;
        case 'remove-first':
          await takeOutUnscheduled(rev, action.pod);
          break;
        case 'unmark':
          await Promise.all(action.pods.map((p) => api.setDeletionCost(p, null)));
          break;
        case 'lower':
          state = (await lowerFrom(rev, action.from, action.to)) ? action.lowered : action.refused;
          break;
        case 'wait':
          await nextChange(rev, action.until - now);
          state = action.next;
          break;
        case 'delete':
          if (action.lowerFirst) {
            log.warn(
              { pod: name, why: 'its pods did not settle' },
              'kubernetes: removing a pod by name; the ReplicaSet may choose another',
            );
            await revisions.scale(rev, -1);
          } else if (reason === 'another_taken') {
            log.warn({ pod: name }, 'kubernetes: the ReplicaSet deleted another pod than this one');
          }
          await api.deletePod(action.pod);
          return;
      }
    }
  }

  /** Gaffer's choice of a pod the scheduler placed nowhere: announced, marked, taken out. */
  async function takeOutUnscheduled(rev: Revision, name: string): Promise<void> {
    removing.add(name);
    o.announce(name, o.workerOf(name) ?? `remote-${name}`);
    if ((await api.setDeletionCost(name, CHEAPEST)) === 'set') await takeOut(rev, name);
  }

  /** The replicas set `from` → `to` if they still equal `from`; false if not, or changed (409). */
  async function lowerFrom(rev: Revision, from: number, to: number): Promise<boolean> {
    const current = await api.readScale(rev.deployment);
    if (current.replicas !== from) return false;
    return (await api.patchScale(rev.deployment, to, current.resourceVersion)) === 'patched';
  }

  /** Resolves at the next event of one of the revision's pods, or after `ms`. */
  function nextChange(rev: Revision, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        timer.cancel();
        rev.changed.delete(done);
        resolve();
      };
      const timer = clock.after(ms, done);
      rev.changed.add(done);
    });
  }

  function changed(deployment: string | undefined): void {
    const rev = deployment ? revisions.get(deployment) : undefined;
    for (const fn of [...(rev?.changed ?? [])]) fn();
  }

  return { remove, removing, changed };
}
