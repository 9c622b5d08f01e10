import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerBatch } from './commands/batch.ts';
import { registerCancel } from './commands/cancel.ts';
import { registerDecisions } from './commands/decisions.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerGenData } from './commands/gen-data.ts';
import { registerJob } from './commands/job.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerLogs } from './commands/logs.ts';
import { registerQueues } from './commands/queues.ts';
import { registerRetry } from './commands/retry.ts';
import { registerSubmit } from './commands/submit.ts';
import { registerTrace } from './commands/trace.ts';
import { registerUpload } from './commands/upload.ts';
import { registerWatch } from './commands/watch.ts';
import { registerWorker } from './commands/worker.ts';
import { registerWorkers } from './commands/workers.ts';
import { DEFAULT_URL, UsageError } from './context.ts';
import { ApiError, ConnectionError } from './http-client.ts';

/**
 * `gaffer`: the command line. Every command except `up` is a client of the HTTP API.
 *
 * Exit codes: 0 ok, 1 the API answered with an error (or a waited-for job did not succeed),
 * 2 usage error, 3 cannot connect to gaffer.
 */
export const EXIT = { ok: 0, api: 1, usage: 2, connect: 3 } as const;

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('gaffer')
    .description('gaffer: submit jobs, watch them run, see why workers scale')
    .version(version(), '-V, --version')
    .option('--url <url>', 'gaffer API base URL', process.env['GAFFER_URL'] ?? DEFAULT_URL)
    .option('--json', 'machine-readable output (JSON) on stdout')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  if (mayNeedServer(argv.slice(2))) await registerServer(program);
  registerSubmit(program);
  registerUpload(program);
  registerJobs(program);
  registerJob(program);
  registerLogs(program);
  registerCancel(program);
  registerRetry(program);
  registerDlq(program);
  registerBatch(program);
  registerQueues(program);
  registerWorkers(program);
  registerWorker(program);
  registerDecisions(program);
  registerWatch(program);
  registerGenData(program);
  registerTrace(program);
  return program;
}

/**
 * Loading the server's modules costs ~250 ms, so a client command skips it: they are loaded only
 * when `up` may be run, or for the help that lists it.
 */
function mayNeedServer(args: string[]): boolean {
  return args.length === 0 || args.some((a) => ['up', 'help', '--help', '-h'].includes(a));
}

/**
 * `up` runs the whole server in this process. It is loaded apart, so that a client command works
 * even where the server's modules cannot load (and reports why only when `up` is asked for).
 */
async function registerServer(program: Command): Promise<void> {
  try {
    const { registerUp } = await import('./up.ts');
    registerUp(program);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    program
      .command('up')
      .description('run gaffer on this machine (unavailable here)')
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        throw new Error(`the server cannot be loaded: ${reason}`);
      });
  }
}

/** Runs the CLI on `argv` (as process.argv) and returns the exit code. Never calls exit. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = await buildProgram(argv);
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? EXIT.ok);
  } catch (err) {
    return reportError(err, json);
  }
}

function reportError(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) {
    // commander printed the message already; explicit --help/--version are not errors
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    return EXIT.usage;
  }
  const print = (code: string, message: string, extra: Record<string, unknown> = {}) =>
    process.stderr.write(
      json
        ? JSON.stringify({ error: { code, message, ...extra } }) + '\n'
        : `error: ${code.startsWith('GAFFER_CLI') ? '' : `${code}: `}${message}\n`,
    );
  if (err instanceof UsageError) {
    print('GAFFER_CLI_USAGE', err.message);
    return EXIT.usage;
  }
  if (err instanceof ApiError) {
    print(err.code, err.message, {
      status: err.status,
      ...(err.details !== undefined ? { details: err.details } : {}),
    });
    return EXIT.api;
  }
  if (err instanceof ConnectionError) {
    print('GAFFER_CLI_CONNECT', `${err.message} (is gaffer up? set --url or GAFFER_URL)`);
    return EXIT.connect;
  }
  print('GAFFER_CLI', err instanceof Error ? err.message : String(err));
  return EXIT.api;
}

function version(): string {
  try {
    const pkg = path.resolve(import.meta.dirname, '../../package.json');
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

if (import.meta.main) {
  process.exitCode = await main();
}
