import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobData, Outcome } from '../domain/job.ts';
import type { DataDirs } from '../storage/object-store.ts';
import { DataPolicyError, TransferBudget } from '../storage/budget.ts';
import { ObjectStores } from '../storage/registry.ts';
import type { Assignment, WorkerSpec } from './protocol.ts';
import { failed, type JobControl, type JobRunner } from './runtime.ts';

/**
 * Wraps a runner with data provisioning. For a job with `data`: download every input
 * into `<scratch>/data/<job>-<attempt>/input/`, create `…/output/`, run the job with both
 * directories (GAFFER_INPUT_DIR / GAFFER_OUTPUT_DIR for commands, ctx.inputDir / ctx.outputDir
 * for handlers), then, only if it succeeded and `data.output` is set, upload the output directory
 * there. The job's directory is removed afterwards, whatever happened. A download or upload that
 * fails is an 'infrastructure' failure (retryable: the store, not the job, failed); one that
 * gaffer's policy refuses — a local path outside `storage.local.roots` or leading out of them, more
 * files or bytes than `storage.maxFilesPerJob` / `maxBytesPerJob` — is an 'application' failure
 * that is not retried (the same job would be refused again). The inputs of one job share one
 * budget, its output another. A cancel or timeout aborts a transfer between files and mid-file;
 * the runtime then reports the job cancelled or timed out. Jobs without `data` go straight to the
 * inner runner, so the hot path is unchanged.
 *
 * The result of a job whose output was uploaded is `{ result, outputLocation, outputs }`: the
 * runner's own result, `data.output`, and the references of the objects written.
 */
export function withDataStaging(inner: JobRunner, spec: WorkerSpec): JobRunner {
  const stores = new ObjectStores(spec.storage);
  return {
    inProcess: inner.inProcess,
    run: (job, control) =>
      job.data ? runStaged(inner, stores, spec, job, job.data, control) : inner.run(job, control),
  };
}

async function runStaged(
  inner: JobRunner,
  stores: ObjectStores,
  spec: WorkerSpec,
  job: Assignment,
  data: JobData,
  control: JobControl,
): Promise<Outcome> {
  // Not the command runner's `<scratch>/<job>-<attempt>`: it removes that when the command ends.
  const root = join(spec.scratchDir, 'data', `${job.id.replace(/[^\w.-]/g, '_')}-${job.attempt}`);
  const dirs: DataDirs = { input: join(root, 'input'), output: join(root, 'output') };
  try {
    const problem = await stage(stores, data.inputs, dirs, control.signal);
    if (problem) return transferFailed(`downloading inputs failed: ${problem.message}`, problem);
    const outcome = await inner.run(job, withDirs(control, dirs));
    if (outcome.status !== 'succeeded' || data.output === null) return outcome;
    return await publish(stores, outcome.result, dirs.output, data.output, control.signal);
  } finally {
    await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}

/** Downloads every input; returns what went wrong, or null. */
async function stage(
  stores: ObjectStores,
  inputs: readonly string[],
  dirs: DataDirs,
  signal: AbortSignal,
): Promise<Error | null> {
  try {
    await mkdir(dirs.input, { recursive: true });
    await mkdir(dirs.output, { recursive: true });
    const budget = new TransferBudget(stores.limits, "the job's inputs");
    for (const ref of inputs) {
      await (await stores.for(ref)).download(ref, dirs.input, { signal, budget });
    }
    return null;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

async function publish(
  stores: ObjectStores,
  result: unknown,
  outputDir: string,
  output: string,
  signal: AbortSignal,
): Promise<Outcome> {
  try {
    const budget = new TransferBudget(stores.limits, "the job's output");
    const outputs = await (await stores.for(output)).upload(outputDir, output, { signal, budget });
    return { status: 'succeeded', result: { result, outputLocation: output, outputs } };
  } catch (err) {
    return transferFailed(`uploading output to ${output} failed: ${message(err)}`, err);
  }
}

/** A refused reference or a cap exceeded ends the job; anything else is the store's failure. */
function transferFailed(text: string, err: unknown): Outcome {
  if (!(err instanceof DataPolicyError)) return failed('infrastructure', text);
  return { status: 'failed', error: { class: 'application', message: text, retryable: false } };
}

/** The same control, plus the job's directories; its signal is read lazily, as Slot makes it so. */
function withDirs(control: JobControl, dirs: DataDirs): JobControl {
  return {
    get signal() {
      return control.signal;
    },
    log: (stream, text) => control.log(stream, text),
    dirs,
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
