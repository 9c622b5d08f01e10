import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  kubeJobState,
  WAITING_FOR_CAPACITY,
  type JobStatusView,
  type PodView,
} from '../../src/executors/kubernetes/job-status.ts';

// Shapes as the real Job controller and kubelet (kwok in the tests) write them.
const cond = (type: string, reason?: string) => ({
  type,
  status: 'True',
  ...(reason ? { reason } : {}),
});
type Condition = ReturnType<typeof cond> & { message?: string };
const job = (...conditions: Condition[]): JobStatusView => ({
  status: { conditions },
});
const pod = (status: NonNullable<PodView['status']>): PodView => ({ status });
const terminated = (reason: string, exitCode: number, phase = 'Failed') =>
  pod({ phase, containerStatuses: [{ state: { terminated: { reason, exitCode } } }] });

const cases: [string, JobStatusView, PodView | undefined, unknown][] = [
  [
    'no pod yet',
    job(),
    undefined,
    { phase: 'pending', block: { reason: 'starting', message: 'the Job has no pod yet' } },
  ],
  [
    'unschedulable: waiting for capacity',
    job(),
    pod({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }],
    }),
    { phase: 'pending', block: { reason: 'capacity', message: WAITING_FOR_CAPACITY } },
  ],
  [
    'scheduled, container creating',
    job(),
    pod({
      phase: 'Pending',
      containerStatuses: [{ state: { waiting: { reason: 'ContainerCreating' } } }],
    }),
    { phase: 'pending', block: { reason: 'starting', message: 'starting (ContainerCreating)' } },
  ],
  ['running', job(), pod({ phase: 'Running' }), { phase: 'running' }],
  [
    'complete',
    job(cond('Complete')),
    terminated('Completed', 0, 'Succeeded'),
    { phase: 'ended', outcome: { status: 'succeeded', result: null } },
  ],
  [
    'OOMKilled',
    job(cond('Failed', 'BackoffLimitExceeded')),
    terminated('OOMKilled', 137),
    {
      phase: 'ended',
      outcome: {
        status: 'failed',
        error: { class: 'oom', message: 'the container was OOMKilled', exitCode: 137 },
      },
    },
  ],
  [
    'non-zero exit',
    job(cond('Failed', 'BackoffLimitExceeded')),
    terminated('Error', 3),
    {
      phase: 'ended',
      outcome: {
        status: 'failed',
        error: {
          class: 'application',
          message: 'the container exited with code 3 (Error)',
          exitCode: 3,
        },
      },
    },
  ],
  [
    'deadline exceeded wins over what the pod says',
    job({
      ...cond('Failed', 'DeadlineExceeded'),
      message: 'Job was active longer than specified deadline',
    }),
    pod({ phase: 'Running' }),
    {
      phase: 'ended',
      outcome: {
        status: 'failed',
        error: {
          class: 'timeout',
          message: "the Job's deadline passed (Job was active longer than specified deadline)",
          exitCode: null,
        },
      },
    },
  ],
  [
    'evicted: no container result',
    job(),
    pod({ phase: 'Failed', reason: 'Evicted' }),
    {
      phase: 'ended',
      outcome: {
        status: 'failed',
        error: {
          class: 'infrastructure',
          message: 'the pod failed before its container ran: Evicted',
          exitCode: null,
        },
      },
    },
  ],
  [
    'job failed, pod gone',
    job(cond('Failed', 'PodFailurePolicy')),
    undefined,
    {
      phase: 'ended',
      outcome: {
        status: 'failed',
        error: {
          class: 'infrastructure',
          message: 'the Job failed without a container result: PodFailurePolicy',
          exitCode: null,
        },
      },
    },
  ],
];

for (const [name, j, p, expected] of cases) {
  test(`Kubernetes state → gaffer: ${name}`, () => {
    assert.deepEqual(kubeJobState(j, p), expected);
  });
}
