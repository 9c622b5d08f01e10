import type { Command } from 'commander';
import type { GafferEvent } from '../../client/index.ts';
import { contextOf, parseIntOption } from '../context.ts';
import { formatClock } from '../format.ts';

/** `gaffer events`: the live event stream (GET /v1/events), one line per event, until Ctrl-C. */
export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('follow the live event stream: job changes, workers, scaling decisions, batches')
    .option('-n, --limit <n>', 'stop after this many events', parseIntOption(1))
    .action(async (opts: { limit?: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const stop = new AbortController();
      const quit = () => stop.abort();
      process.once('SIGINT', quit);
      let seen = 0;
      try {
        for await (const e of ctx.client.events({ signal: stop.signal })) {
          // --json: one JSON document per event (NDJSON), as they come.
          ctx.out(ctx.json ? JSON.stringify(e) : renderEvent(e, Date.now()));
          if (opts.limit !== undefined && ++seen >= opts.limit) break;
        }
      } finally {
        process.off('SIGINT', quit);
      }
    });
}

export function renderEvent(e: GafferEvent, now: number): string {
  const at = formatClock(now);
  switch (e.event) {
    case 'hello':
      return `${at}  connected`;
    case 'jobs': {
      const sample = e.data.sample.map((j) => `${j.id} ${j.state}`).join(', ');
      return `${at}  jobs      ${e.data.changed} changed: ${sample}`;
    }
    case 'worker':
      return `${at}  worker    ${e.data.id} (${e.data.type}) ${e.data.state} ${e.data.active}/${e.data.concurrency}`;
    case 'decision':
      return `${at}  decision  ${e.data.type} ${e.data.from} → ${e.data.to}: ${e.data.reason}`;
    case 'batch':
      return `${at}  batch     ${e.data.batchId} progressed`;
    default:
      return `${at}  ${(e as { event: string }).event}  ${JSON.stringify((e as { data: unknown }).data)}`;
  }
}
