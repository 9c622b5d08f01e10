import type { Outcome } from '../domain/job.ts';
import { loadHandler, runHandler } from './handler-runner.ts';
import type { JobControl } from './runtime.ts';
import { failed } from './runtime.ts';
import type { FromSandbox, ToSandbox } from './sandbox-runner.ts';
import { diagnose } from './diagnostic.ts';

/**
 * The sandbox process: `node src/worker/sandbox.ts`, started by a pool worker for one suspect job
 * (see sandbox-runner.ts for the contract). It says `ready`, takes one `run`, runs the handler
 * exactly as the worker would in-process (runHandler: same context, same outcome rules), reports
 * the outcome and exits — at once, so nothing the handler left running (timers, sockets) can act
 * after its job ended. It exits too when its IPC channel closes: the worker is gone, and with it
 * anyone to report to.
 */

/** Made before `run`: an abort may arrive first (the job timed out while we started). */
const aborter = new AbortController();
let started = false;

function send(msg: FromSandbox, then?: () => void): void {
  process.send?.(msg, undefined, undefined, () => then?.());
}

function control(dirs: JobControl['dirs']): JobControl {
  return {
    signal: aborter.signal,
    log: (stream, data) => send({ t: 'log', stream, data }),
    ...(dirs ? { dirs } : {}),
  };
}

async function run(msg: Extract<ToSandbox, { t: 'run' }>): Promise<Outcome> {
  try {
    const handler = await loadHandler(msg.handler, msg.cwd);
    // Stopped while we started (in-process, the handler would have begun before any abort):
    // it never runs. The worker reports the stop's own outcome (timeout, cancelled) anyway.
    if (aborter.signal.aborted) return { status: 'cancelled' };
    return await runHandler(handler, msg.job, control(msg.dirs));
  } catch (err) {
    return failed('application', `cannot load handler: ${String(err)}`);
  }
}

/** The outcome, or a failure when it cannot travel (a result JSON cannot carry). */
function report(outcome: Outcome): void {
  const done = (): never => process.exit(0);
  try {
    send({ t: 'outcome', outcome }, done);
  } catch (err) {
    send(
      { t: 'outcome', outcome: failed('application', `result not sendable: ${String(err)}`) },
      done,
    );
  }
}

function onMessage(msg: ToSandbox): void {
  if (msg.t === 'abort') {
    aborter.abort(new Error(msg.reason));
  } else if (!started) {
    started = true;
    void run(msg).then(report);
  }
}

if (!process.send) {
  diagnose('gaffer sandbox: must be started by a worker, with an IPC channel');
  process.exit(64);
}
process.on('message', onMessage);
process.on('disconnect', () => process.exit(1));
send({ t: 'ready' });
