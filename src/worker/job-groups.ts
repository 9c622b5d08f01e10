/**
 * The process groups of the jobs this process runs (each command job and each sandbox leads its
 * own: src/worker/command-runner.ts, sandbox-runner.ts). Every way out of the process kills them
 * first: a worker stopped or shut down kills its jobs' trees itself, but one that exits another
 * way — an uncaught error, `process.exit` — would otherwise leave them running, re-parented and
 * out of anyone's reach. ('exit' handlers run synchronously, which a kill is; SIGKILL of this
 * process runs nothing: gaffer then kills the worker's whole tree, src/executors/local-process.)
 */
const groups = new Set<number>();
let hooked = false;

/** A job's group leader was spawned. */
export function trackGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  groups.add(pid);
  if (!hooked) {
    hooked = true;
    process.once('exit', killGroups);
  }
}

/** The job's process ended and its group was killed. */
export function untrackGroup(pid: number | undefined): void {
  if (pid !== undefined) groups.delete(pid);
}

/** SIGKILLs every job group still tracked. */
export function killGroups(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // ESRCH: already gone.
    }
  }
  groups.clear();
}
