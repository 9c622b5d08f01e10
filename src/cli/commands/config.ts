import type { Command } from 'commander';
import YAML from 'yaml';
import { contextOf, printJson } from '../context.ts';

/** `gaffer config`: gaffer's effective configuration (secrets redacted by the server), as YAML. */
export function registerConfig(program: Command): void {
  program
    .command('config')
    .description("gaffer's effective configuration (job types, routes, leases, …) as YAML")
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const config = await ctx.client.config();
      if (ctx.json) return printJson(ctx, config);
      ctx.out(YAML.stringify(config));
    });
}
