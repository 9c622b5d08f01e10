import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { batchProgress, type WaitTarget } from '../../client/index.ts';
import {
  contextOf,
  parseDuration,
  parseIntOption,
  printJson,
  type CliContext,
} from '../context.ts';
import { EXIT } from '../exit.ts';
import { formatDuration } from '../format.ts';
import { renderBatch } from './batch.ts';
import { reportEnd } from './submit.ts';

interface WaitCommandOptions {
  timeout?: number;
  interval: number;
  progress?: boolean;
}

/**
 * `gaffer wait ID`: until a job (or a `batch-…`) is over. Exit 0 when it all succeeded, 5 when
 * something did not, 6 when --timeout ran out first (src/cli/exit.ts). On a terminal, a batch
 * shows a progress bar (ended/total, by state) and a job a spinner with its state, on stderr.
 */
export function registerWait(program: Command): void {
  program
    .command('wait')
    .description('wait for a job or a batch to end; the exit code says how it ended')
    .argument('<id>', 'a job id, or a batch id (batch-…)')
    .option('--timeout <duration>', 'give up after this long (90, 90s, 5m, 1h)', parseDuration)
    .option('-i, --interval <ms>', 'between reads', parseIntOption(50, 60_000), 500)
    .option('--no-progress', 'no progress bar or spinner')
    .action(async (id: string, opts: WaitCommandOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const view = opts.progress !== false && process.stderr.isTTY ? liveView() : null;
      const signal = opts.timeout ? AbortSignal.timeout(opts.timeout) : undefined;
      let last: WaitTarget | undefined;
      try {
        const end = await ctx.client.waitFor(id, {
          intervalMs: opts.interval,
          ...(signal ? { signal } : {}),
          onProgress: (t) => {
            last = t;
            view?.update(t);
          },
        });
        view?.stop();
        report(ctx, end);
        if (!end.succeeded) process.exitCode = EXIT.unsuccessful;
      } catch (err) {
        view?.stop();
        if (!signal?.aborted || err !== signal.reason) throw err;
        if (ctx.json) printJson(ctx, { ...last, timedOut: true });
        ctx.err(`timed out after ${formatDuration(opts.timeout)}: ${last ? stateOf(last) : id}`);
        process.exitCode = EXIT.timeout;
      }
    });
}

function report(ctx: CliContext, end: WaitTarget & { succeeded: boolean }): void {
  if (ctx.json) {
    if (end.kind === 'job') return printJson(ctx, { job: end.job, succeeded: end.succeeded });
    const progress = batchProgress(end.batch);
    return printJson(ctx, { batch: end.batch, progress, succeeded: end.succeeded });
  }
  if (end.kind === 'job') return reportEnd(end.job, ctx.out, ctx.err);
  ctx.out(renderBatch(end.batch));
}

/** One line: where the job or batch is now. */
export function stateOf(t: WaitTarget): string {
  if (t.kind === 'job') {
    return `${t.job.id} ${t.job.state} (attempt ${t.job.attempt}/${t.job.maxAttempts})`;
  }
  const p = batchProgress(t.batch);
  return `${t.batch.id} ${p.ended}/${p.total} ended${p.ingested ? '' : ', ingesting'}`;
}

/** The batch's jobs by state, for the bar's label: "succeeded 6 · failed 1 · queued 3". */
export function statesLine(byState: Partial<Record<string, number>>): string {
  return Object.entries(byState)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([s, n]) => `${s} ${n}`)
    .join(' · ');
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A progress bar (cli-progress) for a batch, a spinner line for a job; both on stderr. */
function liveView() {
  let bar: cliProgress.SingleBar | null = null;
  let frame = 0;
  let spun = false;
  return {
    update(t: WaitTarget) {
      if (t.kind === 'job') {
        spun = true;
        process.stderr.write(`\r\x1b[K${SPINNER[frame++ % SPINNER.length]} ${stateOf(t)}`);
        return;
      }
      const p = batchProgress(t.batch);
      const payload = { states: statesLine(t.batch.byState) || '-' };
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${t.batch.id} [{bar}] {value}/{total} ended | {states}`,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total, p.ended, payload);
      } else {
        bar.setTotal(p.total);
        bar.update(p.ended, payload);
      }
    },
    stop() {
      bar?.stop();
      if (spun) process.stderr.write('\r\x1b[K');
    },
  };
}
