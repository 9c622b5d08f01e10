/**
 * A worker-side process's own diagnostic (the worker, the sandbox, the ad-hoc shell's wrapper): one
 * plain line on its stderr, not the core logger's JSON. That is the protocol: gaffer captures
 * these processes' stderr as it is — a per-job worker's (and a command job's) becomes the job's
 * log, a pool worker's goes to gaffer's stderr prefixed with its id, a pod's is its container log —
 * where a person reads it beside the job's own output.
 */
export function diagnose(line: string): void {
  process.stderr.write(`${line}\n`);
}
