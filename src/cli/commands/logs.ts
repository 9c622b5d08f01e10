import type { Command } from 'commander';
import type { LogLine } from '../../client/index.ts';
import { contextOf, parseIntOption } from '../context.ts';
import type { CliContext } from '../context.ts';

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print a job's log (stdout and stderr of its attempts)")
    .argument('<id>', 'job id')
    .option('-f, --follow', 'keep printing new lines until the job ends')
    .option('--after <seq>', 'only lines after this sequence number', parseIntOption(0))
    .action(async (id: string, opts: { follow?: boolean; after?: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!opts.follow) {
        const lines = await ctx.client.jobs.logs(id, opts.after);
        if (ctx.json) return ctx.out(JSON.stringify({ lines }));
        for (const line of lines) writeLine(ctx, line);
        return;
      }
      const stop = new AbortController();
      const onSigint = () => stop.abort();
      process.once('SIGINT', onSigint);
      try {
        const follow = { after: opts.after ?? 0, signal: stop.signal };
        for await (const line of ctx.client.jobs.followLogs(id, follow)) writeLine(ctx, line);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

/** `--json --follow` streams one JSON line per log line (NDJSON), as it comes. */
function writeLine(ctx: CliContext, line: LogLine): void {
  if (ctx.json) return ctx.out(JSON.stringify(line));
  const text = line.data.endsWith('\n') ? line.data : line.data + '\n';
  if (line.stream === 'stderr') process.stderr.write(text);
  else process.stdout.write(text);
}
