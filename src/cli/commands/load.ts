import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { csvPayloads } from '../../load/csv.ts';
import { DEFAULT_MAX_IN_FLIGHT, type PacePlan } from '../../load/pacing.ts';
import { buildReport, formatReport, progressLine } from '../../load/report.ts';
import { runLoad, type LoadClock, type LoadProgress } from '../../load/run.ts';
import { currentRate } from '../../load/stats.ts';
import { compileTemplate, PLACEHOLDERS, TemplateError } from '../../load/template.ts';
import { contextOf, parseDuration, parseIntOption, printJson, UsageError } from '../context.ts';

interface LoadOptions {
  type?: string;
  rate?: number;
  concurrency?: number;
  time?: number;
  count?: number;
  payload?: string;
  csv?: string;
  batch?: number;
  waitCompletion: number;
  progress?: boolean;
}

/**
 * `gaffer load`: drives a running gaffer through its API at a rate or a concurrency, for a time
 * or a count, then reports what was accepted and how fast jobs ended (src/load/, docs/cli.md
 * "Load testing"). Live progress on a terminal's stderr only.
 */
export function registerLoad(program: Command): void {
  program
    .command('load')
    .description('load-test gaffer: submit jobs at a rate or concurrency, then report latencies')
    .option('--type <type>', 'job type (default: the route rules pick)')
    .option('-r, --rate <n>', 'jobs per second (open loop)', parsePositive)
    .option(
      '-c, --concurrency <n>',
      `requests in flight at most (with --rate: default ${DEFAULT_MAX_IN_FLIGHT})`,
      parseIntOption(1, 10_000),
    )
    .option('-t, --time <duration>', 'stop sending after this long (30s, 2m)', parseDuration)
    .option('-n, --count <n>', 'stop after this many jobs', parseIntOption(1))
    .option('-p, --payload <template>', `payload JSON with placeholders ${PLACEHOLDERS.join(' ')}`)
    .option('--csv <file>', 'payloads from a CSV file with a header row, one row per job, cycling')
    .option(
      '--batch <n>',
      'submit in JSON batches of N jobs (POST /v1/jobs/batch)',
      parseIntOption(1, 100_000),
    )
    .option(
      '--wait-completion <duration>',
      'follow completions this long after the last submission (0: no wait)',
      parseWait,
      30_000,
    )
    .option('--no-progress', 'no live progress line')
    .action(async (opts: LoadOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const plan = planOf(opts);
      const payload = await payloadsOf(opts);
      await ctx.client.health(); // an unreachable gaffer is exit 3 here, not a report of failures
      const view = opts.progress !== false && process.stderr.isTTY ? liveView(plan) : null;
      const result = await runLoad(
        ctx.client,
        {
          plan,
          type: opts.type ?? null,
          payload,
          useBatch: opts.batch !== undefined,
          waitCompletionMs: opts.waitCompletion,
        },
        realClock,
        (p) => view?.update(p),
      ).finally(() => view?.stop());
      const report = buildReport(result, plan, {
        type: opts.type ?? null,
        batch: opts.batch ?? null,
        concurrency: plan.maxInFlight,
      });
      if (ctx.json) printJson(ctx, report);
      else ctx.out(formatReport(report));
    });
}

const realClock: LoadClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

function planOf(o: LoadOptions): PacePlan {
  if (o.rate === undefined && o.concurrency === undefined) {
    throw new UsageError('give a rate (-r N jobs/s) or a concurrency (-c N requests in flight)');
  }
  if (o.time === undefined && o.count === undefined) {
    throw new UsageError('give a time (-t 30s) or a count (-n N) so the run ends');
  }
  return {
    rate: o.rate ?? null,
    maxInFlight: o.concurrency ?? DEFAULT_MAX_IN_FLIGHT,
    batch: o.batch ?? 1,
    count: o.count ?? null,
    durationMs: o.time ?? null,
  };
}

async function payloadsOf(o: LoadOptions): Promise<(i: number) => unknown> {
  if (o.payload !== undefined && o.csv !== undefined) {
    throw new UsageError('give --payload or --csv, not both');
  }
  if (o.csv !== undefined) {
    try {
      return await csvPayloads(o.csv);
    } catch (err) {
      throw new UsageError(`--csv ${o.csv}: ${(err as Error).message}`);
    }
  }
  try {
    return compileTemplate(o.payload ?? '{}');
  } catch (err) {
    if (err instanceof TemplateError) throw new UsageError(`--payload: ${err.message}`);
    throw err;
  }
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError('must be a number above 0');
  }
  return n;
}

/** A duration, or 0 for "do not wait". */
function parseWait(value: string): number {
  return /^0+(ms|s|m|h)?$/.test(value.trim()) ? 0 : parseDuration(value);
}

/** One cli-progress line on stderr, redrawn 4 times a second from the latest progress. */
function liveView(plan: PacePlan) {
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '[{bar}] {line}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { line: 'starting' });
  let last: LoadProgress | null = null;
  const samples: [number, number][] = [];
  const draw = () => {
    if (!last) return;
    const c = last.counters;
    samples.push([last.elapsedMs, c.submitted]);
    if (samples.length > 40) samples.shift();
    const done =
      last.phase === 'submitting'
        ? Math.max(
            plan.count ? c.submitted / plan.count : 0,
            plan.durationMs ? last.elapsedMs / plan.durationMs : 0,
          )
        : c.accepted > 0
          ? last.tracker.completed / c.accepted
          : 1;
    bar.update(Math.min(1000, Math.round(done * 1000)), {
      line: progressLine({
        phase: last.phase,
        submitted: c.submitted,
        accepted: c.accepted,
        rejected: c.rejected,
        completed: last.tracker.completed,
        ratePerSec: currentRate(samples),
      }),
    });
  };
  const timer = setInterval(draw, 250);
  return {
    update(p: LoadProgress) {
      last = p;
    },
    stop() {
      clearInterval(timer);
      draw();
      bar.stop();
    },
  };
}
