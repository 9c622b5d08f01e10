import type { GafferMessage, WorkerConnection, WorkerMessage } from '../../worker/protocol.ts';
import type { WorkerLink } from '../../worker/runtime.ts';

/**
 * Both ends of an in-memory worker link: what the IPC channel is to a worker process, for a
 * worker loop running in gaffer's own process (the library's job types given in code).
 *
 * Contract, the IPC channel's: messages arrive in order, never within the `send` that sent them
 * (a later microtask), and as JSON copies — `child_process`'s 'json' serialisation — so a handler
 * sees the same payload a worker process would, cannot mutate gaffer's records through it, and
 * its result is stored as it would be from a process (a `Date` becomes its string, a function
 * disappears). After `close`, nothing more is delivered either way.
 */
export interface LinkPair {
  /** gaffer's end, handed to the gateway as the worker's connection. */
  gaffer: WorkerConnection;
  /** The worker loop's end. */
  worker: WorkerLink;
  /** Ends the link: the gateway's close listeners run once. */
  close(): void;
}

export function linkPair(): LinkPair {
  const toWorker: ((msg: GafferMessage) => void)[] = [];
  const toGaffer: ((msg: WorkerMessage) => void)[] = [];
  const closed: (() => void)[] = [];
  let open = true;
  const deliver = <M>(listeners: ((msg: M) => void)[], msg: M) => {
    if (!open) return;
    const copy = JSON.parse(JSON.stringify(msg)) as M;
    queueMicrotask(() => {
      if (open) for (const fn of listeners) fn(copy);
    });
  };
  return {
    gaffer: {
      send: (msg) => deliver(toWorker, msg),
      onMessage: (fn) => void toGaffer.push(fn),
      onClose: (fn) => void closed.push(fn),
    },
    worker: {
      send: (msg) => deliver(toGaffer, msg),
      onMessage: (fn) => void toWorker.push(fn),
    },
    close() {
      if (!open) return;
      open = false;
      for (const fn of closed) fn();
    },
  };
}
