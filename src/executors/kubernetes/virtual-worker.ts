import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { StartBlock } from '../../domain/events.ts';
import type { Job, Outcome } from '../../domain/job.ts';
import type { Logger } from '../../domain/logger.ts';
import type { GafferMessage, WorkerConnection, WorkerMessage } from '../../worker/protocol.ts';
import type { ExecutorHooks } from '../executor.ts';
import type { KubeApi } from './api.ts';
import { kubeJobState } from './job-status.ts';
import type { Scheduler, Timer } from '../../domain/clock.ts';

/**
 * One attempt's Job acting as the worker that holds its lease (per-job mode).
 *
 * The container runs the user's image, which knows nothing of gaffer's worker protocol, so this
 * plays the worker's part for it, over a connection that lives in gaffer's process: `hello` for
 * its job (claimed `starting` already), the lease held and heartbeats sent while the Job lives,
 * `started` when the pod runs, and `done` with the outcome `job-status.ts` reads from the Job and
 * its pod — after copying the pod's log into the job's log, before the TTL controller removes it.
 * The gateway and the store see an ordinary per-job worker: claims, fencing and retries unchanged.
 *
 * Contract: the attempt is reported once (`done`, then `hooks.exited` and `onEnd`), whichever
 * comes first of its Job ending, gaffer's timeout (counted from the moment the pod runs: the Job
 * is deleted, its pod with it), a cancel or kill (the Job deleted), the Job deleted by someone
 * else, or its creation failing; every later event is ignored. A pending pod's reason is reported
 * once per change. A failed outcome carries the job's count of OOMKilled attempts (`oomKills`),
 * the next attempt's rung of the memory ladder.
 */
export interface VirtualWorker {
  readonly workerId: string;
  readonly job: Job;
  /** The Job's name. */
  readonly name: string;
  /** Whether its pod has been seen (a Job without one will still take its requests). */
  hasPod(): boolean;
  /** Connects to the gateway, says hello and creates the Job (`body`). */
  run(body: V1Job): Promise<void>;
  /** Informer events of its Job and its pod. */
  jobChanged(job: V1Job): void;
  podChanged(pod: V1Pod): void;
  jobDeleted(): void;
  /** Sends a heartbeat for its lease (once the gateway has given it one). */
  heartbeat(): void;
  /** Deletes the Job, then reports `outcome`. */
  stop(outcome: Outcome): Promise<void>;
}

export interface VirtualWorkerDeps {
  api: Pick<KubeApi, 'createJob' | 'deleteJob' | 'podLog' | 'throttleMs' | 'limit'>;
  hooks: ExecutorHooks;
  clock: Pick<Scheduler, 'after'>;
  log: Pick<Logger, 'error'>;
  /** Called once the attempt is reported (the worker has exited). */
  onEnd(worker: VirtualWorker): void;
}

export function createVirtualWorker(
  deps: VirtualWorkerDeps,
  attempt: { workerId: string; job: Job; name: string; kubeJob: V1Job | undefined },
): VirtualWorker {
  const { api, hooks } = deps;
  const { workerId, job, name } = attempt;
  let kubeJob = attempt.kubeJob;
  let pod: V1Pod | undefined;
  let token: number | null = null;
  let send: (msg: WorkerMessage) => void = () => {};
  let started = false;
  let ended = false;
  /** Pending reason last reported (so each change is reported once). */
  let reason: string | null = null;
  let timeout: Timer | undefined;

  /** The Job or its pod changed: report what it means to the gateway, once per change. */
  function update(): void {
    if (!kubeJob) return;
    const state = kubeJobState(kubeJob, pod);
    if (state.phase === 'pending') {
      if (state.block.message !== reason) {
        reason = state.block.message;
        hooks.output(workerId, 'stderr', `[gaffer] pod pending: ${reason}`);
        hooks.waiting?.(workerId, state.block);
      }
    } else if (state.phase === 'running') {
      if (!started && token !== null) {
        started = true;
        send({ t: 'started', id: job.id, token });
        timeout = deps.clock.after(
          job.timeoutMs,
          () => void stop(failed('timeout', `timed out after ${job.timeoutMs / 1000} s`)),
        );
      }
    } else {
      void finishWithLogs(state.outcome);
    }
  }

  /** Deletes the attempt's Job, then reports `outcome`; the Job's deletion event is ignored. */
  async function stop(outcome: Outcome): Promise<void> {
    if (ended) return;
    ended = true;
    try {
      await api.deleteJob(name);
    } catch (err) {
      deps.log.error({ err, job: name }, 'kubernetes: deleting a Job failed');
    }
    report(outcome);
  }

  /** Copies the pod's log into the job's log, then reports the outcome. */
  async function finishWithLogs(outcome: Outcome): Promise<void> {
    if (ended) return;
    ended = true; // a cancel or timeout while the log is read changes nothing now
    const podName = pod?.metadata?.name;
    if (podName && token !== null) {
      const held = token;
      try {
        const log = await api.podLog(podName);
        for (const data of log.split('\n').filter(Boolean)) {
          send({ t: 'log', id: job.id, token: held, stream: 'stdout', data });
        }
      } catch (err) {
        hooks.output(workerId, 'stderr', `[gaffer] pod log unavailable: ${String(err)}`);
      }
    }
    report(outcome);
  }

  function finish(outcome: Outcome): void {
    if (ended) return;
    ended = true;
    report(outcome);
  }

  /** Reports the attempt's outcome and the virtual worker's exit; later events are ignored. */
  function report(outcome: Outcome): void {
    timeout?.cancel();
    if (token !== null) send({ t: 'done', id: job.id, token, outcome: withOomCount(job, outcome) });
    deps.onEnd(worker);
    hooks.exited(workerId, 0, null);
  }

  /** The gateway's messages to the virtual worker. */
  function fromGaffer(msg: GafferMessage): void {
    if (msg.t === 'jobs') {
      token = msg.jobs[0]?.token ?? null;
      update();
    } else if (msg.t === 'cancel') {
      void stop({ status: 'cancelled' });
    } // 'drain': a per-job worker ends with its job anyway
  }

  async function run(body: V1Job): Promise<void> {
    const conn: WorkerConnection = {
      send: fromGaffer,
      onMessage: (fn) => (send = fn),
      onClose: () => {},
    };
    hooks.connected(workerId, conn, null);
    send({ t: 'hello', workerId, type: job.type, pid: 0, jobId: job.id });
    const throttled = api.throttleMs();
    if (throttled > 0) hooks.waiting?.(workerId, rateLimited(api.limit, throttled));
    try {
      const created = await api.createJob(body);
      // 'exists': this attempt's Job was created before a restart; its events follow.
      if (created === 'exists') return;
      kubeJob = created;
      update();
    } catch (err) {
      finish(failed('infrastructure', `creating the Job ${name} failed: ${String(err)}`));
    }
  }

  const worker: VirtualWorker = {
    workerId,
    job,
    name,
    hasPod: () => pod !== undefined,
    run,
    jobChanged(j) {
      if (ended) return;
      kubeJob = j;
      update();
    },
    podChanged(p) {
      if (ended) return;
      pod = p;
      update();
    },
    jobDeleted() {
      if (!ended) finish(failed('infrastructure', `the Job ${name} was deleted before it ended`));
    },
    heartbeat() {
      if (token !== null && !ended) send({ t: 'heartbeat', leases: [{ id: job.id, token }] });
    },
    stop,
  };
  return worker;
}

export function failed(cls: 'infrastructure' | 'timeout', message: string): Outcome {
  return { status: 'failed', error: { class: cls, message } };
}

/** Carries the job's count of OOMKilled attempts forward: the next attempt's memory rung. */
function withOomCount(job: Job, outcome: Outcome): Outcome {
  if (outcome.status !== 'failed') return outcome;
  const before = job.error?.oomKills ?? 0;
  const oomKills = before + (outcome.error.class === 'oom' ? 1 : 0);
  return { ...outcome, error: { ...outcome.error, oomKills } };
}

/** A Job whose creation waits `ms` for a token of the client's rate limit. */
function rateLimited(limit: { qps: number; burst: number }, ms: number): StartBlock {
  const { qps, burst } = limit;
  const message = `creating its Job waits ${Math.ceil(ms / 1000)} s for the Kubernetes API rate limit (qps ${qps}, burst ${burst})`;
  return { reason: 'rate_limit', message };
}
