import { Cron } from 'croner';

/**
 * Cron expressions, read by croner (https://croner.56k.guru). Chosen over cron-parser: no
 * dependencies (cron-parser brings luxon), seconds optional (5 or 6 fields), IANA time zones
 * through the runtime's Intl, and DST rules it documents and tests (shared with croner-rust):
 *
 * - a fixed-time expression (one value each for second, minute and hour, e.g. `30 2 * * *`) whose
 *   time falls in a spring-forward gap runs at the first valid time after the gap, and a time that
 *   occurs twice (fall back) runs once, at its first occurrence;
 * - any other expression (an interval, e.g. `*\/30 2 * * *`) skips times in a gap and runs on both
 *   occurrences of a repeated time.
 *
 * Ticks are whole seconds (croner's resolution), as epoch ms.
 */
export interface CronSchedule {
  /** The first tick strictly after `after`; null when the expression never fires again. */
  next(after: number): number | null;
  /** At most the `n` latest ticks `t` with `after < t ≤ upTo`, oldest first. */
  latest(after: number, upTo: number, n: number): number[];
}

/** How expressions are read: 5 fields (minute precision) or 6 (seconds first); never 7 (years). */
const MODE = '5-or-6-parts';

/**
 * Reads `expression` in `timezone` (IANA, e.g. `Europe/Berlin`; absent: UTC). Throws on a bad
 * expression or zone, or an expression that never fires (`0 0 30 2 *`).
 */
export function parseCron(expression: string, timezone?: string): CronSchedule {
  const zone = timezone ?? 'UTC';
  const problem = timezoneProblem(zone);
  if (problem) throw new Error(problem);
  const cron = new Cron(expression, { mode: MODE, timezone: zone });
  if (cron.nextRun(new Date(0)) === null) throw new Error(`${expression} never fires`);
  const next = (after: number) => cron.nextRun(new Date(after))?.getTime() ?? null;
  return {
    next,
    latest(after, upTo, n) {
      if (n < 1 || upTo <= after) return [];
      // Forward first: a pass usually finds one tick due, which costs a step or two, where
      // walking back N ticks costs N. Only with more than N due does it walk back from `upTo`.
      const due: number[] = [];
      for (let t = next(after); t !== null && t <= upTo; t = next(t)) {
        if (due.length === n) return newest(cron, upTo, n);
        due.push(t);
      }
      return due;
    },
  };
}

/** What is wrong with an expression, in words; null when it can be used. */
export function cronProblem(expression: string, timezone?: string): string | null {
  try {
    parseCron(expression, timezone);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Why `zone` is not an IANA time zone the runtime knows; null when it is one. */
export function timezoneProblem(zone: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return null;
  } catch {
    return `${JSON.stringify(zone)} is not an IANA time zone (e.g. UTC, Europe/Berlin)`;
  }
}

/** The `n` latest ticks at or before `upTo`, oldest first. */
function newest(cron: Cron, upTo: number, n: number): number[] {
  // previousRuns looks strictly before its reference; ticks are whole seconds, so +1 ms takes in
  // a tick at exactly `upTo`.
  return cron
    .previousRuns(n, new Date(upTo + 1))
    .map((d) => d.getTime())
    .reverse();
}
