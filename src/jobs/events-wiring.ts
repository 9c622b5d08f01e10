import type { GafferEvents } from '../domain/events.ts';
import type { Job } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { Executor, ExecutorHooks } from '../executors/executor.ts';
import type { BrokerBridge } from './broker-bridge.ts';
import type { KeyParking } from './key-parking.ts';
import type { WorkerGateway } from './worker-gateway.ts';

/**
 * What executors report, delivered to the gateway. Invariant: a worker's exit is recorded (its
 * jobs handed back) and then the autoscaler is poked, whether or not the record succeeded: a
 * store that refuses it (disk full) leaves the jobs' leases to expire — logged, never a crash.
 */
export function executorHooks(
  gateway: Pick<WorkerGateway, 'connected' | 'output' | 'exited' | 'waiting' | 'retire'>,
  log: Pick<Logger, 'error'>,
  poke: () => void,
): ExecutorHooks {
  return {
    connected: (id, conn, pid) => gateway.connected(id, conn, pid),
    output: (id, stream, data) => gateway.output(id, stream, data),
    exited: (id, code, signal) => {
      gateway
        .exited(id, code, signal)
        .catch((err: unknown) => log.error({ err, worker: id }, "recording a worker's exit failed"))
        .finally(poke);
    },
    waiting: (id, reason) => gateway.waiting(id, reason),
    retire: (id) => gateway.retire(id),
  };
}

/**
 * What gaffer does on its own events. A submission wakes its type's waiting claims, and the
 * autoscaler at once only for a type with no worker (others wait for the next tick, so a stream
 * of submissions is not a stream of ticks); a retry falls due through the broker bridge; a
 * cancel stops the job where it runs; a worker the gateway let go is the executor's to reclaim
 * (a Kubernetes pool removes that idle pod); in broker mode a job that leaves flight (or a queued
 * one that ends) publishes a job parked on its key (key-parking.ts).
 */
export function wireEvents(d: {
  events: Pick<GafferEvents, 'on'>;
  gateway: Pick<WorkerGateway, 'notify' | 'resumed' | 'workers' | 'stopJob'>;
  executor: Pick<Executor, 'stopped'>;
  bridge: Pick<BrokerBridge, 'retrying'>;
  /** Broker mode: a job that leaves flight frees its key for a parked job. */
  parking?: Pick<KeyParking, 'ended'>;
  /** Pokes the autoscaler, when it runs here. */
  poke(): void;
}): void {
  const { events, gateway } = d;
  events.on('job:queued', ({ jobs }) => {
    const types = new Set(jobs.map((j) => j.type));
    for (const type of types) gateway.notify(type);
    if ([...types].some((t) => gateway.workers(t).length === 0)) d.poke();
  });
  events.on('job:retrying', ({ job }) => d.bridge.retrying(job));
  const parking = d.parking;
  if (parking) {
    const ended = ({ job }: { job: Job }) => parking.ended(job);
    for (const e of [
      'succeeded',
      'failed',
      'cancelled',
      'retrying',
      'redelivered',
      'expired',
    ] as const) {
      events.on(`job:${e}`, ended);
    }
  }
  // A resumed type's waiting claims take its backlog now; the autoscaler sees its demand again.
  events.on('type:paused', ({ type, paused }) => {
    if (!paused) gateway.resumed(type);
    d.poke();
  });
  events.on('job:cancelled', ({ job }) => {
    if (job.state !== 'cancelled') gateway.stopJob(job.id, 'cancelled by a user');
  });
  events.on('worker:stopped', ({ worker, clean }) => d.executor.stopped?.(worker.id, clean));
}

/**
 * Drains every worker (invariant 5: each takes nothing new and exits once its jobs are done).
 * True once all have exited; false after `timeoutMs` with some still busy.
 */
export async function drainAll(
  d: { gateway: Pick<WorkerGateway, 'workers' | 'retire'>; events: Pick<GafferEvents, 'once'> },
  timeoutMs: number,
): Promise<boolean> {
  for (const w of d.gateway.workers()) d.gateway.retire(w.id);
  const done = () => d.gateway.workers().length === 0;
  if (done()) return true;
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs));
  const drained = d.events.once('worker:stopped', done).then(() => true);
  return Promise.race([drained, timeout]);
}
