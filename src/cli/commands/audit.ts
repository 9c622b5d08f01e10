import type { Command } from 'commander';
import type { AuditEntry } from '../../client/index.ts';
import { contextOf, parseIntOption, printJson } from '../context.ts';
import { formatIso, inlineJson, table } from '../format.ts';

/** `gaffer audit`: the operator actions gaffer recorded (GET /v1/audit), newest first. */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('the audit log: who cancelled, retried, replayed or edited what, and when')
    .option('--actor <id>', 'only this key id')
    .option('--action <action>', 'only this action (e.g. job.cancel)')
    .option('-n, --limit <n>', 'at most this many', parseIntOption(1, 1000), 50)
    .option('--cursor <cursor>', 'continue a previous listing')
    .action(
      async (
        opts: { actor?: string; action?: string; limit: number; cursor?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const page = await ctx.client.audit.list(opts);
        if (ctx.json) return printJson(ctx, page);
        ctx.out(renderAudit(page.entries));
        if (page.nextCursor) ctx.err(`more: gaffer audit --cursor ${page.nextCursor}`);
      },
    );
}

export function renderAudit(entries: AuditEntry[]): string {
  if (entries.length === 0) return '(no audit entries)';
  const rows = entries.map((e) => [
    formatIso(e.at),
    e.actor,
    e.action,
    e.target ?? '-',
    e.outcome,
    inlineJson(e.details, 50),
  ]);
  return table(['AT', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'DETAILS'], rows);
}
