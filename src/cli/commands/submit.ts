import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { ApiJob, Submission } from '../../client/index.ts';
import {
  collectAttr,
  contextOf,
  InvalidArgument,
  parseDuration,
  parseIntOption,
  parsePriority,
  printJson,
  UsageError,
} from '../context.ts';
import { EXIT } from '../exit.ts';

interface SubmitOptions {
  payload?: string;
  payloadFile?: string;
  priority?: number | string;
  attr?: Record<string, unknown>;
  idempotencyKey?: string;
  dedup?: NonNullable<Submission['dedup']>;
  maxAttempts?: number;
  timeout?: number;
  wait?: boolean;
  input?: string[];
  output?: string;
  delay?: string;
  runAt?: string;
  expireIn?: string;
  expiresAt?: string;
}

export function registerSubmit(program: Command): void {
  program
    .command('submit')
    .description('submit one job; without TYPE the route rules pick one')
    .argument('[type]', 'job type')
    .option('-p, --payload <json>', 'the payload, as JSON')
    .option('-f, --payload-file <file>', 'read the payload JSON from a file (- for stdin)')
    .option('--priority <n>', 'higher runs first (a number, or high/normal/low)', parsePriority)
    .option('-a, --attr <key=value>', 'an attribute (repeatable; JSON values)', collectAttr)
    .option('--idempotency-key <key>', 'submitting the same key again returns the same job')
    .option(
      '--dedup <mode>',
      'with --idempotency-key: live (unique while queued or running), ttl=DURATION (unique that ' +
        'long), debounce=DURATION (replace the waiting job, start pushed back)',
      parseDedup,
    )
    .option('--max-attempts <n>', 'attempts before the job fails', parseIntOption(1, 100))
    .option('--timeout <seconds>', 'time limit of one attempt', parseIntOption(1))
    .option(
      '--input <ref>',
      'an input, s3://… or a path (a relative one from here), downloaded first (repeatable)',
      collect,
    )
    .option('--output <ref>', "where the job's output directory is uploaded (s3://… or a path)")
    .option('--delay <duration>', 'not before this long from now: seconds, or 30s, 5m, 2h, 1d')
    .option('--run-at <time>', 'not before this time: ISO 8601 with a zone, or epoch ms')
    .option('--expire-in <duration>', 'not started this long from now: ends expired (as --delay)')
    .option('--expires-at <time>', 'not started by this time: ends expired (as --run-at)')
    .option('-w, --wait', `wait until the job ends; exit 0 if it succeeded, else ${EXIT.api}`)
    .action(async (type: string | undefined, opts: SubmitOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: Submission = {
        payload: await readPayload(opts),
        ...(type ? { type } : {}),
        ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
        ...(opts.attr ? { attributes: opts.attr } : {}),
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
        ...(opts.dedup ? { dedup: opts.dedup } : {}),
        ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
        ...(opts.timeout ? { timeoutSeconds: opts.timeout } : {}),
        ...(opts.delay !== undefined ? { delay: opts.delay } : {}),
        ...(opts.runAt !== undefined ? { runAt: opts.runAt } : {}),
        ...(opts.expireIn !== undefined ? { expireIn: opts.expireIn } : {}),
        ...(opts.expiresAt !== undefined ? { expiresAt: opts.expiresAt } : {}),
        ...(opts.input || opts.output
          ? {
              data: {
                inputs: (opts.input ?? []).map((ref) => absoluteRef(ref)),
                ...(opts.output ? { output: absoluteRef(opts.output) } : {}),
              },
            }
          : {}),
      };
      const { job, created } = await ctx.jobs.submit(body);
      if (!opts.wait) {
        if (ctx.json) printJson(ctx, { job, created });
        else ctx.out(job.id);
        if (!created && !ctx.json) ctx.err(`(already submitted with this idempotency key)`);
        return;
      }
      // Listening before the id is printed: a Ctrl-C as soon as it shows is already answered.
      const stopWaiting = onInterrupt(() => {
        ctx.err(interruptedMessage(job.id));
        process.exit(EXIT.interrupted);
      });
      if (!ctx.json) ctx.out(job.id);
      const end = await ctx.jobs.wait(job.id).finally(stopWaiting);
      if (ctx.json) printJson(ctx, { job: end.job });
      else reportEnd(end.job, ctx.out, ctx.err);
      // 1, not 5: scripts relied on `submit --wait` exiting 1 before `gaffer wait` existed.
      if (!end.succeeded) process.exitCode = EXIT.api;
    });
}

/** What Ctrl-C on `submit --wait` prints: the job is not cancelled, and how to reach it. */
export function interruptedMessage(id: string): string {
  return (
    `job ${id} keeps running (interrupting the wait does not cancel it): ` +
    `gaffer wait ${id} to wait again, gaffer job ${id} to see it, gaffer cancel ${id} to cancel it`
  );
}

/** Runs `handler` on SIGINT instead of the default exit; returns what removes it. */
function onInterrupt(handler: () => void): () => void {
  process.once('SIGINT', handler);
  return () => void process.off('SIGINT', handler);
}

/**
 * A data reference as gaffer takes it: a relative local path (`data/x.csv`, `./out/`) becomes
 * absolute against `cwd`, keeping a trailing `/` (a directory); a reference with a scheme
 * (`s3://`, `file://`) or an absolute path goes unchanged. Only the CLI resolves: the server has
 * no working directory of the caller's, and refuses relative paths from every other front end.
 */
export function absoluteRef(ref: string, cwd = process.cwd()): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref) || path.isAbsolute(ref)) return ref;
  const resolved = path.resolve(cwd, ref);
  return /[/\\]$/.test(ref) && !resolved.endsWith(path.sep) ? resolved + path.sep : resolved;
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
  return readFile(path, 'utf8').catch((err: Error) => usage(path, err));
}

function usage(path: string, err: Error): never {
  throw new UsageError(`cannot read ${path}: ${err.message}`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function reportEnd(job: ApiJob, out: (s: string) => void, err: (s: string) => void): void {
  err(`${job.state} after ${job.attempt} attempt${job.attempt === 1 ? '' : 's'}`);
  if (job.state === 'succeeded') out(JSON.stringify(job.result));
  else if (job.error) err(`error (${job.error.class}): ${job.error.message}`);
}

/**
 * `gaffer submit-batch FILE`: many jobs in one request (POST /v1/jobs/batch), as one batch. The
 * file holds a JSON array of submissions, or `{ "type": …, "jobs": [ … ] }`.
 */
export function registerSubmitBatch(program: Command): void {
  program
    .command('submit-batch')
    .description(
      'submit many jobs at once as a batch: a JSON file (an array, or {type, jobs}), or NDJSON (a job per line, streamed: any size)',
    )
    .argument('<file>', 'the JSON or NDJSON file (- for stdin)')
    .option('-t, --type <type>', 'job type of every job that names none')
    .option('--ndjson', 'the file has a job per line (implied by .ndjson and .jsonl)')
    .option('--delay <duration>', "each job's not-before, from its acceptance, unless it sets one")
    .option('--run-at <time>', 'not before this time, for every job that sets no due time')
    .option('--expire-in <duration>', "each job's expiry, from its acceptance, unless it sets one")
    .option('--expires-at <time>', 'not started by this time, for every job that sets no expiry')
    .action(async (file: string, opts: BatchOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const timed = withTimes(opts);
      if (opts.ndjson || /\.(ndjson|jsonl)$/i.test(file)) {
        if (file !== '-') await access(file).catch((err: Error) => usage(file, err));
        const type = opts.type;
        const result = await ctx.client.jobs.submitStream(
          mapJobs(jsonLines(file), timed),
          type ? { type } : {},
        );
        if (ctx.json) return printJson(ctx, result);
        ctx.out(`batch     ${result.batch.id}`);
        ctx.out(`accepted  ${result.batch.accepted}`);
        ctx.out(`rejected  ${result.batch.rejected}`);
        for (const r of result.rejected.slice(0, 10)) {
          ctx.err(`line ${r.row}: ${r.code}: ${r.message}`);
        }
        return;
      }
      const parsed = (await readPayload({ payloadFile: file })) as unknown;
      const body = Array.isArray(parsed)
        ? { jobs: parsed as Submission[] }
        : (parsed as { type?: string; jobs?: Submission[] });
      if (!Array.isArray(body.jobs)) {
        throw new UsageError(`${file}: expected a JSON array of jobs, or {"type", "jobs": [...]}`);
      }
      const type = opts.type ?? body.type;
      const result = await ctx.client.jobs.submitBatch({
        jobs: body.jobs.map(timed),
        ...(type ? { type } : {}),
      });
      if (ctx.json) return printJson(ctx, result);
      ctx.out(`batch     ${result.batchId}`);
      ctx.out(`accepted  ${result.accepted}`);
      ctx.out(`rejected  ${result.rejected.length}`);
      for (const r of result.rejected.slice(0, 10)) {
        ctx.err(`job ${r.index}: ${r.code}: ${r.message}`);
      }
      ctx.err(`progress: gaffer wait ${result.batchId}`);
    });
}

interface BatchOptions {
  type?: string;
  ndjson?: boolean;
  delay?: string;
  runAt?: string;
  expireIn?: string;
  expiresAt?: string;
}

/**
 * The batch's time options on one job: a due time (`delay` or `runAt`) for a job that sets
 * neither, an expiry (`expireIn` or `expiresAt`) likewise. gaffer checks them as a job's own.
 */
function withTimes(opts: BatchOptions): (job: Submission) => Submission {
  if (opts.delay !== undefined && opts.runAt !== undefined) {
    throw new UsageError('--delay and --run-at: give one');
  }
  if (opts.expireIn !== undefined && opts.expiresAt !== undefined) {
    throw new UsageError('--expire-in and --expires-at: give one');
  }
  return (job) => {
    if (job === null || typeof job !== 'object' || Array.isArray(job)) return job;
    const out = { ...job };
    if (out.delay === undefined && out.runAt === undefined) {
      if (opts.delay !== undefined) out.delay = opts.delay;
      else if (opts.runAt !== undefined) out.runAt = opts.runAt;
    }
    if (out.expireIn === undefined && out.expiresAt === undefined) {
      if (opts.expireIn !== undefined) out.expireIn = opts.expireIn;
      else if (opts.expiresAt !== undefined) out.expiresAt = opts.expiresAt;
    }
    return out;
  };
}

async function* mapJobs<T>(jobs: AsyncIterable<T>, f: (job: T) => T): AsyncGenerator<T> {
  for await (const job of jobs) yield f(job);
}

/**
 * The jobs of an NDJSON file, read as they are sent. A line that is not JSON stops the command
 * before gaffer sees it (the batch keeps the lines before); lines gaffer refuses are reported.
 */
async function* jsonLines(file: string): AsyncGenerator<Submission> {
  const input = file === '-' ? process.stdin : createReadStream(file);
  let n = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as Submission;
    } catch (err) {
      throw new UsageError(`${file}, line ${n}: ${(err as Error).message}`);
    }
  }
}

/** `live`, `ttl=DURATION` or `debounce=DURATION` (90, 90s, 5m, 1h, 500ms) as a submission's dedup. */
function parseDedup(value: string): NonNullable<Submission['dedup']> {
  if (value === 'live') return { mode: 'live' };
  const [mode, window] = value.split('=', 2);
  if ((mode === 'ttl' || mode === 'debounce') && window) {
    const seconds = parseDuration(window) / 1000;
    return mode === 'ttl' ? { mode, ttlSeconds: seconds } : { mode, debounceSeconds: seconds };
  }
  throw new InvalidArgument('must be live, ttl=DURATION or debounce=DURATION (e.g. ttl=10m)');
}
