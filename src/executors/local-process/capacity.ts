import os from 'node:os';
import { millicores, quantity } from '../../config/quantity.ts';

/**
 * The local executor's resource-aware limit: how many workers of a type this machine has room
 * for, from what each type declares one worker takes (`worker.resources`) and the machine's
 * capacity (`executor.local`). Pure but for `machineCapacity`'s defaults, so every case is a
 * table test.
 *
 * A type that declares nothing is not limited, and the workers of such types hold nothing: on
 * one machine most jobs are I/O-bound or light, and counting them against the CPUs would refuse
 * work the machine can do.
 */

export interface Room {
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
}

export function machineCapacity(local: { cpus?: string; memory?: string }): Room {
  return {
    cpu: local.cpus ? millicores(local.cpus) : os.availableParallelism() * 1000,
    memory: local.memory ? quantity(local.memory) : os.totalmem(),
  };
}

/** One worker's declared resources (absent ones are 0: not counted). */
export function perWorker(resources: { cpu?: string; memory?: string } | undefined): Room {
  return {
    cpu: resources?.cpu ? millicores(resources.cpu) : 0,
    memory: resources?.memory ? quantity(resources.memory) : 0,
  };
}

/**
 * What one worker holds: a per-job worker its job's own request (each of cpu and memory it gives
 * replacing the type's; within the type's declared resources, checked at submit), any other the
 * type's `worker.resources`.
 */
export function workerShare(
  type: { cpu?: string; memory?: string } | undefined,
  job: { cpu?: string; memory?: string } | null | undefined,
): Room {
  return perWorker({
    ...(type?.cpu ? { cpu: type.cpu } : {}),
    ...(type?.memory ? { memory: type.memory } : {}),
    ...(job?.cpu ? { cpu: job.cpu } : {}),
    ...(job?.memory ? { memory: job.memory } : {}),
  });
}

/**
 * More workers of a type that fit now: the capacity left after every live worker's share (`held`,
 * all types) divided by one worker's. null: the type declares nothing, so nothing limits it.
 */
export function localRoom(input: { capacity: Room; perWorker: Room; held: Room }): number | null {
  let more = Infinity;
  for (const key of ['cpu', 'memory'] as const) {
    const need = input.perWorker[key];
    if (need > 0) {
      more = Math.min(more, Math.floor((input.capacity[key] - input.held[key]) / need));
    }
  }
  return more === Infinity ? null : Math.max(0, more);
}

type Declared = { cpu?: string; memory?: string } | undefined;

/**
 * What the workers one local executor started hold, until each has exited, and the room they
 * leave for more of a type. A worker's share is read from its type's `worker.resources` as
 * configured now (a reload applies at once), or its job's own request (per-job, `workerShare`).
 */
export class LocalCapacity {
  readonly capacity: Room;
  readonly #resources: (type: string) => Declared;
  readonly #workers = new Map<string, { type: string; job: Declared | null }>();

  constructor(capacity: Room, resources: (type: string) => Declared) {
    this.capacity = capacity;
    this.#resources = resources;
  }

  started(workerId: string, type: string, job: Declared | null): void {
    this.#workers.set(workerId, { type, job });
  }

  exited(workerId: string): void {
    this.#workers.delete(workerId);
  }

  has(workerId: string): boolean {
    return this.#workers.has(workerId);
  }

  room(type: string): number | null {
    const held = { cpu: 0, memory: 0 };
    for (const w of this.#workers.values()) {
      const r = workerShare(this.#resources(w.type), w.job);
      held.cpu += r.cpu;
      held.memory += r.memory;
    }
    return localRoom({
      capacity: this.capacity,
      perWorker: perWorker(this.#resources(type)),
      held,
    });
  }
}
