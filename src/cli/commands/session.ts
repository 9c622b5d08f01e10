import type { Command } from 'commander';
import type { Session } from '../../client/index.ts';
import { contextOf, printJson, UsageError } from '../context.ts';

/**
 * `gaffer login`, `whoami`, `logout` (the /v1/session routes). The CLI sends its key on every call
 * (--api-key / GAFFER_API_KEY) and keeps no session; `login` checks a key and says whom it names.
 */
export function registerSession(program: Command): void {
  program
    .command('login')
    .description('check an API key and show whom it names (then export GAFFER_API_KEY)')
    .argument('[key]', 'the API key (default: --api-key or $GAFFER_API_KEY)')
    .action(async (key: string | undefined, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const globals = cmd.optsWithGlobals<{ apiKey?: string }>();
      const given = key ?? globals.apiKey ?? process.env['GAFFER_API_KEY'];
      if (!given) {
        throw new UsageError('give the key: gaffer login KEY, --api-key or GAFFER_API_KEY');
      }
      const session = await ctx.client.session.login(given);
      if (ctx.json) return printJson(ctx, session);
      ctx.out(renderSession(session));
      if (!key) return;
      ctx.err('the CLI keeps no session: export GAFFER_API_KEY=<the key> for later commands');
    });
  program
    .command('whoami')
    .description('who the API key (or session) is: id, role, job types')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const session = await ctx.client.session.whoami();
      if (ctx.json) return printJson(ctx, session);
      ctx.out(renderSession(session));
    });
  program
    .command('logout')
    .description('end the session on the server (DELETE /v1/session)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.client.session.logout();
      if (ctx.json) return printJson(ctx, { loggedOut: true });
      ctx.out('logged out');
    });
}

export function renderSession(s: Session): string {
  const p = s.principal;
  const types = p.types && p.types.length > 0 ? p.types.join(', ') : 'every type';
  const auth = s.auth === false ? ' (auth is off: everyone is the anonymous operator)' : '';
  return `${p.id}  ${p.role}  ${types}${auth}`;
}
