import type { Command } from 'commander';
import type { LogLine, RunRequest } from '../../client/index.ts';
import { contextOf, InvalidArgument, modeOf, parseIntOption, printJson } from '../context.ts';
import { EXIT } from '../exit.ts';
import { reportEnd } from './submit.ts';

interface RunOptions {
  cmd: string;
  image?: string;
  timeout?: number;
  env?: Record<string, string>;
  wait?: boolean;
}

/**
 * `gaffer run --image busybox --cmd "echo Hello World" --timeout 60`: one ad-hoc
 * command (POST /v1/run; in `--mode grpc`, the RunCommand RPC). Prints the job id; with --wait,
 * streams its log as it runs (REST only: gRPC has no log stream) and ends as `submit --wait` does
 * (its state, then exit 0 if it succeeded, else 1).
 */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one shell command as a job (ad-hoc; gaffer must have adhoc.enabled)')
    .requiredOption('-c, --cmd <command>', 'the command, run with sh -c')
    .option('-i, --image <image>', 'container image (Kubernetes); default: adhoc.image')
    .option(
      '-t, --timeout <seconds>',
      'time limit; default: adhoc.timeoutSeconds',
      parseIntOption(1),
    )
    .option('-e, --env <NAME=value>', 'an environment variable (repeatable)', collectEnv)
    .option(
      '-w, --wait',
      `stream the log until the job ends; exit 0 if it succeeded, else ${EXIT.api}`,
    )
    .action(async (opts: RunOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: RunRequest = {
        cmd: opts.cmd,
        ...(opts.image ? { image: opts.image } : {}),
        ...(opts.timeout ? { timeoutSeconds: opts.timeout } : {}),
        ...(opts.env ? { env: opts.env } : {}),
      };
      const job = await ctx.jobs.run(body);
      if (!opts.wait) {
        if (ctx.json) printJson(ctx, { job });
        else ctx.out(job.id);
        return;
      }
      if (!ctx.json) ctx.err(job.id);
      const lines: LogLine[] = [];
      // gRPC has no log stream: in grpc mode --wait watches the job end (WatchJob) only.
      const follow = modeOf(cmd) === 'grpc' ? [] : ctx.client.jobs.followLogs(job.id);
      for await (const line of follow) {
        if (ctx.json) lines.push(line);
        else (line.stream === 'stderr' ? process.stderr : process.stdout).write(withNewline(line));
      }
      const end = await ctx.jobs.wait(job.id);
      if (ctx.json) printJson(ctx, { job: end.job, lines });
      else reportEnd(end.job, () => {}, ctx.err);
      if (!end.succeeded) process.exitCode = EXIT.api;
    });
}

function withNewline(line: LogLine): string {
  return line.data.endsWith('\n') ? line.data : `${line.data}\n`;
}

function collectEnv(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgument('expected NAME=value');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}
