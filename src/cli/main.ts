import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { GafferApiError, GafferConnectionError } from '../client/index.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBatch, registerBatches } from './commands/batch.ts';
import { registerCompletion } from './commands/completion.ts';
import { registerConfig } from './commands/config.ts';
import { registerEvents } from './commands/events.ts';
import { registerHealth } from './commands/health.ts';
import { registerSession } from './commands/session.ts';
import { registerStats } from './commands/stats.ts';
import { registerWait } from './commands/wait.ts';
import { registerCancel } from './commands/cancel.ts';
import { registerDecisions, registerDesired } from './commands/decisions.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerGenData } from './commands/gen-data.ts';
import { registerJob } from './commands/job.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerLogs } from './commands/logs.ts';
import { registerQueues } from './commands/queues.ts';
import { registerRetry } from './commands/retry.ts';
import { registerSchedule, registerTypePause } from './commands/schedule.ts';
import { registerSubmit, registerSubmitBatch } from './commands/submit.ts';
import { registerTrace } from './commands/trace.ts';
import { registerUpload } from './commands/upload.ts';
import { registerTop } from './commands/top.ts';
import { registerWorker } from './commands/worker.ts';
import { registerWorkers } from './commands/workers.ts';
import { DEFAULT_URL, modeOf, UsageError } from './context.ts';
import {
  closeJobsApis,
  DEFAULT_GRPC,
  GRPC_COMMANDS,
  GrpcModeError,
  MODELESS_COMMANDS,
  MODES,
} from './jobs-api.ts';
import { EXIT, exitCodesHelp } from './exit.ts';
import { endQuietlyWhenReaderGoes } from './pipe.ts';
import { StartError } from '../library/start-error.ts';
import { packageFile } from '../paths.ts';

export { EXIT };

/**
 * `gaffer`: the command line. Every command except `up`, `worker`, `gen-data` and `completion` is
 * a client of the HTTP API through src/client; with `--mode grpc`, the job commands talk gRPC
 * instead (jobs-api.ts). Exit codes: src/cli/exit.ts (one table).
 */

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('gaffer')
    .description('gaffer: submit jobs, watch them run, see why workers scale')
    .version(version(), '-V, --version')
    .option('--url <url>', `gaffer API base URL (default: $GAFFER_URL or ${DEFAULT_URL})`)
    .option('--api-key <key>', 'API key, sent as a Bearer token (default: $GAFFER_API_KEY)')
    .option('--json', 'machine-readable output (JSON) on stdout; errors as JSON on stderr')
    .addOption(
      new Option(
        '--mode <mode>',
        `talk to gaffer over REST or gRPC (default: $GAFFER_MODE or rest; grpc: ${GRPC_COMMANDS.join(', ')})`,
      ).choices(MODES),
    )
    .option('--grpc <host:port>', `gRPC address (default: $GAFFER_GRPC or ${DEFAULT_GRPC})`)
    .hook('preAction', (_program, action) => checkMode(action))
    .exitOverride()
    // Every command's help lists --url, --api-key and --json: they work on every command.
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', exitCodesHelp());
  if (mayNeedServer(argv.slice(2))) await registerServer(program);
  registerSubmit(program);
  registerSubmitBatch(program);
  (await import('./commands/run.ts')).registerRun(program);
  registerUpload(program);
  registerJobs(program);
  registerJob(program);
  registerLogs(program);
  registerCancel(program);
  registerRetry(program);
  registerWait(program);
  registerDlq(program);
  registerBatch(program);
  registerBatches(program);
  registerQueues(program);
  registerTypePause(program);
  registerSchedule(program);
  registerWorkers(program);
  registerWorker(program);
  registerDecisions(program);
  registerDesired(program);
  registerTop(program);
  registerEvents(program);
  registerStats(program);
  registerConfig(program);
  registerHealth(program);
  registerSession(program);
  registerAudit(program);
  (await import('./commands/keys.ts')).registerKeys(program);
  registerGenData(program);
  (await import('./commands/load.ts')).registerLoad(program);
  registerTrace(program);
  // Completion scripts are generated from the whole tree when asked for, so they never drift.
  registerCompletion(program);
  return program;
}

/**
 * `--mode grpc` serves only the job commands (jobs-api.ts): any other client command is a usage
 * error, before it runs; the commands that are no API clients ignore the mode.
 */
function checkMode(action: Command): void {
  const names: string[] = [];
  for (let c: Command | null = action; c?.parent; c = c.parent) names.unshift(c.name());
  const top = names[0] ?? '';
  if (MODELESS_COMMANDS.includes(top) || modeOf(action) === 'rest') return;
  if (!GRPC_COMMANDS.includes(names.join(' '))) {
    throw new UsageError(
      `${names.join(' ')} is not available in grpc mode; grpc mode supports ${GRPC_COMMANDS.join(', ')} (use --mode rest)`,
    );
  }
}

/**
 * Loading the server's modules costs ~250 ms, so a client command skips it: they are loaded only
 * when `up` may be run, or for the help that lists it.
 */
function mayNeedServer(args: string[]): boolean {
  return (
    args.length === 0 || args.some((a) => ['up', 'help', '--help', '-h', 'completion'].includes(a))
  );
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

/**
 * Runs the CLI on `argv` (as process.argv) and returns the exit code. Calls exit only when the
 * reader of stdout or stderr went away (pipe.ts: `gaffer jobs | head -1` ends quietly, 141).
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  endQuietlyWhenReaderGoes();
  const program = await buildProgram(argv);
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? EXIT.ok);
  } catch (err) {
    return reportError(err, json);
  } finally {
    closeJobsApis();
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
  if (err instanceof StartError) {
    print(err.code, err.message);
    return EXIT.startup;
  }
  if (err instanceof GafferApiError) {
    print(err.code, err.message, {
      status: err.status,
      ...(err.details !== undefined ? { details: err.details } : {}),
    });
    return err.status === 401 || err.status === 403 ? EXIT.auth : EXIT.api;
  }
  if (err instanceof GrpcModeError) {
    if (err.unreachable) {
      print(
        'GAFFER_CLI_CONNECT',
        `${err.message} (is gaffer up with server.grpcPort set? set --grpc or GAFFER_GRPC)`,
      );
    } else {
      print(err.code, err.message, {
        grpcStatus: err.grpcStatus,
        ...(err.details !== undefined ? { details: err.details } : {}),
      });
    }
    return err.exitCode;
  }
  if (err instanceof GafferConnectionError) {
    print('GAFFER_CLI_CONNECT', `${err.message} (is gaffer up? set --url or GAFFER_URL)`);
    return EXIT.connect;
  }
  print('GAFFER_CLI', err instanceof Error ? err.message : String(err));
  return EXIT.api;
}

function version(): string {
  try {
    const pkg = packageFile('package.json');
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

if (import.meta.main) {
  process.exitCode = await main();
}
