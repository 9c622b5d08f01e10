import type { Command } from 'commander';
import { contextOf, parseIntOption, printJson } from '../context.ts';
import { formatClock, pad, table, wrap } from '../format.ts';
import type { ScalingDecision } from '../../client/index.ts';

export function registerDecisions(program: Command): void {
  program
    .command('decisions')
    .description("the autoscaler's recent decisions and why it made them")
    .option('-t, --type <type>', 'only this job type')
    .option('-n, --limit <n>', 'at most this many', parseIntOption(1, 1000), 20)
    .action(async (opts: { type?: string; limit: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const decisions = await ctx.client.scaling.decisions({ type: opts.type, limit: opts.limit });
      if (ctx.json) return printJson(ctx, { decisions });
      ctx.out(renderDecisions(decisions, process.stdout.columns || 100));
    });
}

export function registerDesired(program: Command): void {
  program
    .command('desired')
    .description('per job type: the workers running now and how many the autoscaler wants')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const types = await ctx.client.scaling.desired();
      if (ctx.json) return printJson(ctx, { types });
      const rows = Object.entries(types).map(([t, d]) => [t, String(d.current), String(d.desired)]);
      ctx.out(
        rows.length === 0
          ? '(no job types configured)'
          : table(['TYPE', 'CURRENT', 'DESIRED'], rows, { align: ['left', 'right', 'right'] }),
      );
    });
}

/**
 * One line per decision (time, type, from → to, how many workers it retires), then its reason,
 * indented and wrapped to `width`: the reason is the point, so it is never cut.
 */
export function renderDecisions(decisions: ScalingDecision[], width = 100): string {
  if (decisions.length === 0) return '(no scaling decisions yet)';
  const typeWidth = Math.max(...decisions.map((d) => d.type.length));
  const indent = ' '.repeat(10);
  return decisions
    .map((d) => {
      const retire = d.retire.length > 0 ? `  retire ${d.retire.length}` : '';
      const head = `${formatClock(d.at)}  ${pad(d.type, typeWidth)}  ${d.from} → ${d.to}${retire}`;
      return [head, ...wrap(d.reason, width - indent.length).map((l) => indent + l)].join('\n');
    })
    .join('\n');
}
