import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  collectAttr,
  contextOf,
  parseIntOption,
  parsePriority,
  printJson,
  sleep,
  UsageError,
} from '../context.ts';
import type { ApiJob, GafferClient, Submission } from '../http-client.ts';
import { isTerminal } from '../http-client.ts';

interface SubmitOptions {
  payload?: string;
  payloadFile?: string;
  priority?: number | string;
  attr?: Record<string, unknown>;
  idempotencyKey?: string;
  maxAttempts?: number;
  timeout?: number;
  wait?: boolean;
  input?: string[];
  output?: string;
}

export function registerSubmit(program: Command): void {
  program
    .command('submit')
    .description('submit one job; without TYPE the route rules pick one (seed 002)')
    .argument('[type]', 'job type')
    .option('-p, --payload <json>', 'the payload, as JSON')
    .option('-f, --payload-file <file>', 'read the payload JSON from a file (- for stdin)')
    .option('--priority <n>', 'higher runs first (a number, or high/normal/low)', parsePriority)
    .option('-a, --attr <key=value>', 'an attribute (repeatable; JSON values)', collectAttr)
    .option('--idempotency-key <key>', 'submitting the same key again returns the same job')
    .option('--max-attempts <n>', 'attempts before the job fails', parseIntOption(1, 100))
    .option('--timeout <seconds>', 'time limit of one attempt', parseIntOption(1))
    .option('--input <ref>', 'an input, s3://… or a path, downloaded first (repeatable)', collect)
    .option('--output <ref>', "where the job's output directory is uploaded (s3://… or a path)")
    .option('-w, --wait', 'wait until the job ends; exit 0 if it succeeded, else 1')
    .action(async (type: string | undefined, opts: SubmitOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: Submission = {
        payload: await readPayload(opts),
        ...(type ? { type } : {}),
        ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
        ...(opts.attr ? { attributes: opts.attr } : {}),
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
        ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
        ...(opts.timeout ? { timeoutSeconds: opts.timeout } : {}),
        ...(opts.input || opts.output
          ? { data: { inputs: opts.input ?? [], ...(opts.output ? { output: opts.output } : {}) } }
          : {}),
      };
      const { job, created } = await ctx.client.submit(body);
      if (!opts.wait) {
        if (ctx.json) printJson(ctx, { job, created });
        else ctx.out(job.id);
        if (!created && !ctx.json) ctx.err(`(already submitted with this idempotency key)`);
        return;
      }
      if (!ctx.json) ctx.out(job.id);
      const end = await waitForEnd(ctx.client, job.id);
      if (ctx.json) printJson(ctx, { job: end });
      else reportEnd(end, ctx.out, ctx.err);
      if (end.state !== 'succeeded') process.exitCode = 1;
    });
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export async function readPayload(opts: {
  payload?: string;
  payloadFile?: string;
}): Promise<unknown> {
  if (opts.payload !== undefined && opts.payloadFile !== undefined) {
    throw new UsageError('give --payload or --payload-file, not both');
  }
  let text: string;
  let from: string;
  if (opts.payload !== undefined) {
    text = opts.payload;
    from = '--payload';
  } else if (opts.payloadFile !== undefined) {
    from = opts.payloadFile;
    text = opts.payloadFile === '-' ? await readStdin() : await readFileOrUsage(opts.payloadFile);
  } else {
    return {};
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${from} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readFileOrUsage(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Polls the job until it reaches a terminal state. */
export async function waitForEnd(
  client: GafferClient,
  id: string,
  intervalMs = 500,
): Promise<ApiJob> {
  for (;;) {
    const job = await client.getJob(id);
    if (isTerminal(job.state)) return job;
    await sleep(intervalMs);
  }
}

function reportEnd(job: ApiJob, out: (s: string) => void, err: (s: string) => void): void {
  err(`${job.state} after ${job.attempt} attempt${job.attempt === 1 ? '' : 's'}`);
  if (job.state === 'succeeded') out(JSON.stringify(job.result));
  else if (job.error) err(`error (${job.error.class}): ${job.error.message}`);
}
