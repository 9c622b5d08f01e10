import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import YAML from 'yaml';
import { contextOf, printJson, UsageError } from '../context.ts';
import { formatAgo, formatIso, keyValues, table } from '../format.ts';
import type { ApiJob, ScheduleDefinition, ScheduleView } from '../../client/index.ts';
import { isDelayed } from './jobs.ts';

/**
 * `gaffer schedule list|show|pause|resume|trigger|put|delete`: cron schedules (docs/schedules.md),
 * the config's and the API's. `put` declares an API schedule from a YAML or JSON file holding what
 * the config's `schedules.<name>` holds.
 */
export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('cron schedules: list them with next and last runs, pause, resume, trigger');
  schedule
    .command('list')
    .description('every schedule: cron, next and last run, its last job, paused, source')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const schedules = await ctx.client.schedules.list();
      if (ctx.json) return printJson(ctx, { schedules });
      ctx.out(renderSchedules(schedules, Date.now()));
    });
  schedule
    .command('show')
    .description('one schedule, its definition and the jobs of its recent runs')
    .argument('<name>', 'schedule name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const shown = await ctx.client.schedules.get(name);
      if (ctx.json) return printJson(ctx, shown);
      ctx.out(renderSchedule(shown.schedule, shown.jobs, Date.now()));
    });
  for (const [verb, what] of [
    ['pause', 'pause a schedule: its ticks pass without firing until resumed'],
    ['resume', 'resume a schedule: its next tick fires (the paused ones are not caught up)'],
  ] as const) {
    schedule
      .command(verb)
      .description(what)
      .argument('<name>', 'schedule name')
      .action(async (name: string, _opts: unknown, cmd: Command) => {
        const ctx = contextOf(cmd);
        const view = await ctx.client.schedules[verb](name);
        if (ctx.json) return printJson(ctx, { schedule: view });
        ctx.out(`${view.name} ${view.paused ? 'paused' : 'active'}`);
      });
  }
  schedule
    .command('trigger')
    .description("submit the schedule's job now, outside its cron (the cron state does not move)")
    .argument('<name>', 'schedule name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const job = await ctx.client.schedules.trigger(name);
      if (ctx.json) return printJson(ctx, { job });
      ctx.out(`${job.id} ${job.state}`);
    });
  schedule
    .command('put')
    .description('declare or replace an API schedule from a YAML or JSON file')
    .argument('<name>', 'schedule name')
    .argument('<file>', 'the definition: cron, timezone, submit, missed, overlap, paused')
    .action(async (name: string, file: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const definition = await readDefinition(file);
      const { schedule: view, created } = await ctx.client.schedules.put(name, definition);
      if (ctx.json) return printJson(ctx, { schedule: view, created });
      ctx.out(
        `${view.name} ${created ? 'created' : 'replaced'}; next run ${formatIso(view.nextRunAt)}`,
      );
    });
  schedule
    .command('delete')
    .description('delete an API schedule (a config schedule goes with a config change)')
    .argument('<name>', 'schedule name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.client.schedules.delete(name);
      if (ctx.json) return printJson(ctx, { name, deleted: true });
      ctx.out(`${name} deleted`);
    });
}

/** `gaffer pause TYPE` and `gaffer resume TYPE`: a type takes jobs but starts none while paused. */
export function registerTypePause(program: Command): void {
  for (const [verb, what] of [
    ['pause', 'pause a job type: it takes submissions and starts nothing until resumed'],
    ['resume', 'resume a paused job type: its backlog starts'],
  ] as const) {
    program
      .command(verb)
      .description(what)
      .argument('<type>', 'job type')
      .action(async (type: string, _opts: unknown, cmd: Command) => {
        const ctx = contextOf(cmd);
        const out = await ctx.client.types[verb](type);
        if (ctx.json) return printJson(ctx, out);
        ctx.out(`${out.type} ${out.paused ? 'paused' : 'resumed'}`);
      });
  }
}

async function readDefinition(file: string): Promise<ScheduleDefinition> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return YAML.parse(text) as ScheduleDefinition; // YAML is a superset of JSON
  } catch (err) {
    throw new UsageError(`${file} is not YAML or JSON: ${(err as Error).message}`);
  }
}

export function renderSchedules(schedules: ScheduleView[], now: number): string {
  if (schedules.length === 0) return '(no schedules)';
  const rows = schedules.map((s) => [
    s.name,
    s.definition.cron + (s.definition.timezone ? ` (${s.definition.timezone})` : ''),
    s.definition.submit.type,
    s.paused ? 'paused' : formatIso(s.nextRunAt),
    s.lastRun ? formatAgo(s.lastRun.at, now) : '-',
    s.lastRun?.jobId ?? '-',
    s.source,
  ]);
  return table(['NAME', 'CRON', 'TYPE', 'NEXT RUN', 'LAST RUN', 'LAST JOB', 'SOURCE'], rows);
}

export function renderSchedule(s: ScheduleView, jobs: ApiJob[], now: number): string {
  const d = s.definition;
  const pairs: [string, string][] = [
    ['name', `${s.name} (${s.source})`],
    ['cron', d.cron + (d.timezone ? ` (${d.timezone})` : ' (UTC)')],
    [
      'submits',
      `${d.submit.type}${d.submit.payload === undefined ? '' : ' ' + JSON.stringify(d.submit.payload)}`,
    ],
    ['missed', typeof d.missed === 'string' ? d.missed : `catch up ${d.missed.catchUp}`],
    ['overlap', d.overlap],
    ['paused', s.paused ? 'yes' : 'no'],
    ['next run', formatIso(s.nextRunAt)],
    ['last run', s.lastRun ? `${formatIso(s.lastRun.at)} (${formatAgo(s.lastRun.at, now)})` : '-'],
  ];
  const lines = [keyValues(pairs)];
  if (jobs.length > 0) {
    lines.push(
      '',
      table(
        ['JOB', 'STATE', 'CREATED'],
        jobs.map((j) => [
          j.id,
          isDelayed(j, now) ? 'delayed' : j.state,
          formatAgo(j.createdAt, now),
        ]),
      ),
    );
  }
  return lines.join('\n');
}
