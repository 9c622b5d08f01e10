import type { Command } from 'commander';
import { contextOf, printJson } from '../context.ts';
import { EXIT } from '../exit.ts';

/** `gaffer health`, `gaffer metrics`, `gaffer openapi`: the operational endpoints. */
export function registerHealth(program: Command): void {
  program
    .command('health')
    .description(
      `is gaffer alive (/healthz) and ready to serve (/readyz)? exit ${EXIT.api} if not ready`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const [health, ready] = await Promise.all([ctx.client.health(), ctx.client.ready()]);
      if (ctx.json) printJson(ctx, { status: health.status, ready });
      else {
        ctx.out(`${health.status}, ${ready ? 'ready' : 'NOT ready (the store does not answer)'}`);
      }
      if (!ready) process.exitCode = EXIT.api;
    });
  program
    .command('metrics')
    .description('the Prometheus metrics, as text exposition')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const text = await ctx.client.metrics();
      if (ctx.json) return printJson(ctx, { metrics: text });
      process.stdout.write(text);
    });
  program
    .command('openapi')
    .description('the OpenAPI document of the HTTP API')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const doc = await ctx.client.openapi();
      printJson(ctx, doc);
    });
}
