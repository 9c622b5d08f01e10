import type { Command } from 'commander';
import { contextOf, printJson } from '../context.ts';

export function registerRetry(program: Command): void {
  program
    .command('retry')
    .description('send an ended job that did not succeed back to the queue')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const job = await ctx.client.jobs.retry(id);
      if (ctx.json) return printJson(ctx, { job });
      ctx.out(`${job.id} ${job.state}`);
    });
}
