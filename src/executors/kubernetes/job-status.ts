import type { StartBlock } from '../../domain/events.ts';
import type { Outcome } from '../../domain/job.ts';

/**
 * What a gaffer job is doing, read from its Kubernetes Job and that Job's pod — a pure function
 * of the objects the executor's watches deliver, so every mapping is a table test.
 *
 * - A pod the scheduler cannot place (PodScheduled=False, Unschedulable) is `pending` with the
 *   block `capacity` "waiting for cluster capacity" — the job stays queued in spirit, not failed.
 * - A container OOMKilled is failure class `oom`: retried with more memory (the type's ladder).
 * - The Job's deadline (DeadlineExceeded) is `timeout`: the job ends `timed_out` by its policy.
 * - Any other non-zero exit is `application`, with the exit code; a pod that vanished or failed
 *   without a container result (evicted, node lost) is `infrastructure`.
 * A Job has ended only with its Complete or Failed condition; the interim SuccessCriteriaMet and
 * FailureTarget (Kubernetes ≥ 1.31) come before them and are not an end.
 */
export type KubeJobState =
  | { phase: 'pending'; block: StartBlock }
  | { phase: 'running' }
  | { phase: 'ended'; outcome: Outcome };

export const WAITING_FOR_CAPACITY = 'waiting for cluster capacity';

/** The parts of a batch/v1 Job's status this reads. */
export interface JobStatusView {
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    succeeded?: number;
    failed?: number;
  };
}

/** The parts of a v1 Pod this reads. */
export interface PodView {
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      state?: {
        waiting?: { reason?: string; message?: string };
        running?: object;
        terminated?: { reason?: string; exitCode: number; message?: string; signal?: number };
      };
    }[];
  };
}

export function kubeJobState(job: JobStatusView, pod: PodView | undefined): KubeJobState {
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed?.reason === 'DeadlineExceeded') {
    return ended('timeout', `the Job's deadline passed (${failed.message ?? 'DeadlineExceeded'})`);
  }
  const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
  const complete = conditions.some((c) => c.type === 'Complete' && c.status === 'True');
  if (complete) return { phase: 'ended', outcome: { status: 'succeeded', result: null } };
  if (terminated && (failed || pod?.status?.phase === 'Failed')) return fromTerminated(terminated);
  if (failed) {
    return ended('infrastructure', `the Job failed without a container result: ${failed.reason}`);
  }
  if (pod?.status?.phase === 'Failed') {
    const why = pod.status.reason ?? 'unknown';
    return ended('infrastructure', `the pod failed before its container ran: ${why}`);
  }
  return fromPod(pod);
}

function fromTerminated(t: { reason?: string; exitCode: number; message?: string }): KubeJobState {
  if (t.reason === 'OOMKilled') {
    return { phase: 'ended', outcome: failure('oom', 'the container was OOMKilled', t.exitCode) };
  }
  const detail = t.message ? `: ${t.message}` : '';
  const message = `the container exited with code ${t.exitCode} (${t.reason ?? 'Error'})${detail}`;
  return { phase: 'ended', outcome: failure('application', message, t.exitCode) };
}

function fromPod(pod: PodView | undefined): KubeJobState {
  if (!pod) return starting('the Job has no pod yet');
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { phase: 'pending', block: { reason: 'capacity', message: WAITING_FOR_CAPACITY } };
  }
  if (pod.status?.phase === 'Running') return { phase: 'running' };
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
  return starting(waiting ? `starting (${waiting})` : 'starting');
}

function starting(message: string): KubeJobState {
  return { phase: 'pending', block: { reason: 'starting', message } };
}

function ended(cls: 'timeout' | 'infrastructure', message: string): KubeJobState {
  return { phase: 'ended', outcome: failure(cls, message, null) };
}

function failure(
  cls: 'timeout' | 'infrastructure' | 'oom' | 'application',
  message: string,
  exitCode: number | null,
): Outcome {
  return { status: 'failed', error: { class: cls, message, exitCode } };
}
