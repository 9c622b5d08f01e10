import type { Command } from 'commander';
import YAML from 'yaml';
import { contextOf, printJson } from '../context.ts';
import { EXIT } from '../exit.ts';

/** `gaffer config`: gaffer's effective configuration (secrets redacted by the server), as YAML. */
export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description("gaffer's effective configuration (job types, routes, leases, …) as YAML")
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const config = await ctx.client.config();
      if (ctx.json) return printJson(ctx, config);
      ctx.out(YAML.stringify(config));
    });
  // A refused config is gaffer answering with an error (exit 1), though the request succeeded.
  config
    .command('reload')
    .description('re-read the config file now; prints what changed or every problem found')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const status = await ctx.client.reloadConfig();
      if (!status.ok) process.exitCode = EXIT.api;
      if (ctx.json) return printJson(ctx, status);
      ctx.out(YAML.stringify(status));
    });
}
