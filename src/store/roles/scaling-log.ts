import type { ScalingDecision } from '../../domain/events.ts';

/**
 * Role: the scaling log — append-only records of the autoscaler's decisions and of every worker's
 * lifecycle, read newest first. The control loop writes decisions, the worker gateway writes worker
 * events, the queue routes read both.
 */
export interface ScalingLog {
  recordDecision(decision: ScalingDecision): Promise<void>;
  decisions(filter: { type?: string; limit: number }): Promise<ScalingDecision[]>;
  /** Worker lifecycle: an append-only record, so tests can prove no busy worker was stopped. */
  recordWorkerEvent(event: WorkerEvent): Promise<void>;
  workerEvents(filter: { type?: string; limit: number }): Promise<WorkerEvent[]>;
}

export interface WorkerEvent {
  at: number;
  workerId: string;
  type: string;
  event: 'started' | 'ready' | 'draining' | 'stopped' | 'crashed';
  /** Jobs the worker held at the moment of the event; for `stopped` by gaffer it must be 0. */
  active: number;
  detail: string | null;
}
