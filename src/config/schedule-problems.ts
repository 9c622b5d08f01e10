import { durationMsOf } from '../jobs/submission.ts';
import { cronProblem, timezoneProblem } from '../schedules/cron.ts';
import { isRecord } from './bare-type-map.ts';
import type { ConfigProblem } from './load.ts';
import { escapePointer } from './pointer.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * What the schema cannot check of the `schedules` section: each name (record keys escape the
 * schema), its time zone and cron expression (read as the schedule runner reads them), its
 * submission's `expireIn` (read as every submission's), and the job type it submits (`types`: the configured, in-code and enabled ad-hoc types). Defensive: runs on
 * data the schema may have refused.
 */
export function scheduleProblems(
  schedules: unknown,
  types: Record<string, unknown>,
): ConfigProblem[] {
  if (!isRecord(schedules)) return [];
  return Object.entries(schedules).flatMap(([name, schedule]) =>
    oneSchedule(name, schedule, types),
  );
}

function oneSchedule(name: string, schedule: unknown, types: Record<string, unknown>) {
  const at = `/schedules/${escapePointer(name)}`;
  if (!NAME.test(name)) return [{ path: at, message: `a schedule name must match ${NAME.source}` }];
  if (!isRecord(schedule)) return [];
  const problems: ConfigProblem[] = [];
  const { cron, timezone, submit } = schedule;
  const zone = typeof timezone === 'string' ? timezone : undefined;
  const zoneProblem = zone === undefined ? null : timezoneProblem(zone);
  if (zoneProblem) problems.push({ path: `${at}/timezone`, message: zoneProblem });
  if (typeof cron === 'string') {
    // A bad zone is reported once, above: the expression is then read in UTC.
    const problem = cronProblem(cron, zoneProblem ? undefined : zone);
    if (problem) {
      problems.push({ path: `${at}/cron`, message: `is not a cron expression: ${problem}` });
    }
  }
  const expireIn = isRecord(submit) ? submit['expireIn'] : undefined;
  if (expireIn !== undefined) {
    try {
      durationMsOf(expireIn, 'expireIn', 'GAFFER_EXPIRY_INVALID');
    } catch (err) {
      problems.push({ path: `${at}/submit/expireIn`, message: (err as Error).message });
    }
  }
  const type = isRecord(submit) ? submit['type'] : undefined;
  if (typeof type === 'string' && !Object.hasOwn(types, type)) {
    const known = Object.keys(types).join(', ') || 'none';
    problems.push({
      path: `${at}/submit/type`,
      message: `names no job type: ${JSON.stringify(type)} (known: ${known})`,
    });
  }
  return problems;
}
