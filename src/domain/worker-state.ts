/**
 * A worker's states as gaffer's gateway tracks them. Pure: no I/O, no clock.
 *
 * starting ──hello──▶ idle ──leased a job──▶ busy ──holds none──▶ idle
 * starting ──leased (its assigned job, or a claim before hello)──▶ busy
 * starting | idle | busy ──retired (scale-in)──▶ draining   (takes nothing new, sticks until exit)
 * any ──exited──▶ stopped
 *
 * The gateway moves a worker only along WORKER_TRANSITIONS: a move outside it (an idle worker's
 * second hello, a draining worker reporting its job started) leaves the state as it is.
 */
export const WORKER_STATES = ['starting', 'idle', 'busy', 'draining', 'stopped'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** Every allowed move: from a state (key) to each of the listed states. */
export const WORKER_TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  starting: ['idle', 'busy', 'draining', 'stopped'],
  idle: ['busy', 'draining', 'stopped'],
  busy: ['idle', 'draining', 'stopped'],
  draining: ['stopped'],
  stopped: [],
};

export function canWorkerTransition(from: WorkerState, to: WorkerState): boolean {
  return WORKER_TRANSITIONS[from].includes(to);
}
