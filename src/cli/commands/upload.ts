import { stat } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { contextOf, parsePriority, printJson, UsageError } from '../context.ts';
import { EXIT } from '../exit.ts';
import { formatBytes, table, truncate } from '../format.ts';

interface UploadOptions {
  type?: string;
  priority?: number | string;
  progress?: boolean;
  delay?: string;
  runAt?: string;
  expireIn?: string;
  expiresAt?: string;
}

export function registerUpload(program: Command): void {
  program
    .command('upload')
    .description('upload a CSV file: one job per row')
    .argument('<file>', 'CSV file with a header row')
    .option(
      '-t, --type <type>',
      "job type of every row (else gaffer's routes.uploadType, else the route rules per row)",
    )
    .option('--priority <n>', 'priority of every row', parsePriority)
    .option(
      '--delay <duration>',
      "every row not before this long from now (a row's own gaffer.delay wins)",
    )
    .option('--run-at <time>', "every row not before this time (a row's own gaffer.runAt wins)")
    .option('--expire-in <duration>', 'a row not started this long from now ends expired')
    .option('--expires-at <time>', 'a row not started by this time ends expired')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, opts: UploadOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const size = await stat(file).then(
        (s) => s.size,
        (err: Error) => {
          throw new UsageError(`cannot read ${file}: ${err.message}`);
        },
      );
      const bar = opts.progress !== false && process.stderr.isTTY ? progressBar() : null;
      bar?.start(size, 0, { label: 'uploading' });
      let result;
      try {
        result = await ctx.client.jobs.uploadCsv(file, {
          ...(opts.type ? { type: opts.type } : {}),
          ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
          ...timingOf(opts),
          onProgress: (sent) => {
            bar?.update(sent, { label: sent >= size ? 'ingesting' : 'uploading' });
          },
        });
      } finally {
        bar?.stop();
      }
      const { batch, rejected } = result;
      // Nothing accepted is a failed upload for a script, whatever the rows' reasons.
      if (batch.accepted === 0) process.exitCode = EXIT.api;
      if (ctx.json) return printJson(ctx, result);
      ctx.out(`batch     ${batch.id}`);
      ctx.out(`accepted  ${batch.accepted}`);
      ctx.out(`rejected  ${batch.rejected}`);
      if (rejected.length > 0) {
        const rows = rejected
          .slice(0, 10)
          .map((r) => [String(r.row), r.code, truncate(r.message, 70)]);
        ctx.err(table(['ROW', 'CODE', 'MESSAGE'], rows));
        if (batch.rejected > rows.length) {
          ctx.err(`… all ${batch.rejected} rejected rows: gaffer batch rejected ${batch.id}`);
        }
      }
      if (batch.accepted === 0) {
        ctx.err(`no row was accepted: every row was rejected (gaffer batch rejected ${batch.id})`);
        return;
      }
      ctx.err(
        `(${formatBytes(size)}) progress: gaffer batch ${batch.id}; wait: gaffer wait ${batch.id}`,
      );
    });
}

/** The timing options given, as the upload's query fields. */
function timingOf(opts: UploadOptions): Record<string, string> {
  const { delay, runAt, expireIn, expiresAt } = opts;
  const given = Object.entries({ delay, runAt, expireIn, expiresAt });
  return Object.fromEntries(given.filter(([, v]) => v !== undefined)) as Record<string, string>;
}

function progressBar(): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{label} [{bar}] {percentage}% | {value}/{total}',
      formatValue: (v, _o, type) =>
        type === 'value' || type === 'total' ? formatBytes(v) : `${v}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
}
