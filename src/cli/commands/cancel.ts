import type { Command } from 'commander';
import { contextOf, printJson } from '../context.ts';

export function registerCancel(program: Command): void {
  program
    .command('cancel')
    .description('cancel a job (a queued job at once; a running one is stopped)')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const job = await ctx.jobs.cancel(id);
      if (ctx.json) return printJson(ctx, { job });
      ctx.out(
        `${job.id} ${job.state}${job.cancelRequested && job.state !== 'cancelled' ? ' (cancel requested)' : ''}`,
      );
    });
}
