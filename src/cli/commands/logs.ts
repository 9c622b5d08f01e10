import type { Command } from 'commander';
import { contextOf, parseIntOption, sleep } from '../context.ts';
import type { CliContext } from '../context.ts';
import { isTerminal } from '../http-client.ts';
import type { LogLine } from '../http-client.ts';

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print a job's log (stdout and stderr of its attempts)")
    .argument('<id>', 'job id')
    .option('-f, --follow', 'keep printing new lines until the job ends')
    .option('--after <seq>', 'only lines after this sequence number', parseIntOption(0))
    .action(async (id: string, opts: { follow?: boolean; after?: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const stop = new AbortController();
      const onSigint = () => stop.abort();
      process.once('SIGINT', onSigint);
      try {
        await printLogs(ctx, id, opts.after ?? 0, Boolean(opts.follow), stop.signal);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

/**
 * Prints lines after `after`. Following, polls every 500 ms; it stops once the job is terminal
 * and a read made after seeing that returned nothing (so no late line is missed).
 */
async function printLogs(
  ctx: CliContext,
  id: string,
  after: number,
  follow: boolean,
  signal: AbortSignal,
): Promise<void> {
  let last = after;
  for (;;) {
    const job = follow ? await ctx.client.getJob(id) : null;
    const lines = await ctx.client.jobLogs(id, last);
    for (const line of lines) writeLine(ctx, line);
    if (lines.length > 0) last = lines[lines.length - 1]!.seq;
    if (!follow || signal.aborted) return;
    if (lines.length === 0 && job && isTerminal(job.state)) return;
    if (lines.length === 0) await sleep(500, signal);
  }
}

function writeLine(ctx: CliContext, line: LogLine): void {
  if (ctx.json) return ctx.out(JSON.stringify(line));
  const text = line.data.endsWith('\n') ? line.data : line.data + '\n';
  if (line.stream === 'stderr') process.stderr.write(text);
  else process.stdout.write(text);
}
