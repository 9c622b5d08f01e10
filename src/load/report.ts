import type { PacePlan } from './pacing.ts';
import type { LoadProgress, LoadResult } from './run.ts';
import { summarize, type Percentiles } from './stats.ts';

/**
 * The end-of-run report (`gaffer load --json` prints it as is) and the live progress line. Pure:
 * built from the run's counters, formatted without I/O.
 *
 * Contract: submitted = accepted + rejected; completed ≤ accepted; completed + unfinished =
 * accepted; each percentile set is ordered p50 ≤ p90 ≤ p99 ≤ max.
 */
export interface LoadReport {
  type: string | null;
  plan: {
    rate: number | null;
    concurrency: number;
    batch: number | null;
    count: number | null;
    durationMs: number | null;
  };
  /** From the first request to the last answer. */
  durationMs: number;
  /** Jobs submitted per second over `durationMs`. */
  achievedRate: number;
  submitted: number;
  accepted: number;
  rejected: number;
  /** Rejected jobs by error code (src/errors.ts; GAFFER_CLI_CONNECT: no answer). */
  rejectedByCode: Record<string, number>;
  requests: number;
  /** Answer time of each request, ms. */
  submitLatencyMs: Percentiles | null;
  /** Accepted jobs that reached a terminal state while the run watched. */
  completed: number;
  succeeded: number;
  /** Ended in any other terminal state (failed, timed_out, dead_lettered, cancelled). */
  failed: number;
  endedByState: Record<string, number>;
  /** From submit (the job's createdAt) to its end (finishedAt), on gaffer's clock, ms. */
  completionLatencyMs: Percentiles | null;
  /** Accepted jobs not ended when the run stopped watching, by the state last seen. */
  unfinished: number;
  unfinishedByState: Record<string, number>;
  /** How long the run waited for completions after the last answer. */
  waitedMs: number;
}

export function buildReport(
  r: LoadResult,
  plan: PacePlan,
  meta: { type: string | null; batch: number | null; concurrency: number },
): LoadReport {
  const c = r.counters;
  const ended = r.tracker.endedByState;
  const succeeded = ended['succeeded'] ?? 0;
  return {
    type: meta.type,
    plan: {
      rate: plan.rate,
      concurrency: meta.concurrency,
      batch: meta.batch,
      count: plan.count,
      durationMs: plan.durationMs,
    },
    durationMs: Math.round(r.submitPhaseMs),
    achievedRate: r.submitPhaseMs > 0 ? round((c.submitted * 1000) / r.submitPhaseMs, 1) : 0,
    submitted: c.submitted,
    accepted: c.accepted,
    rejected: c.rejected,
    rejectedByCode: { ...c.rejectedByCode },
    requests: c.requests,
    submitLatencyMs: rounded(summarize(c.submitMs)),
    completed: r.tracker.completed,
    succeeded,
    failed: r.tracker.completed - succeeded,
    endedByState: { ...ended },
    completionLatencyMs: summarize(r.tracker.completionMs),
    unfinished: r.tracker.pending,
    unfinishedByState: r.tracker.pendingByState(),
    waitedMs: Math.round(r.waitedMs),
  };
}

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

function rounded(p: Percentiles | null): Percentiles | null {
  if (!p) return null;
  return {
    count: p.count,
    p50: round(p.p50, 1),
    p90: round(p.p90, 1),
    p99: round(p.p99, 1),
    max: round(p.max, 1),
  };
}

/** "12 GAFFER_PAYLOAD_INVALID, 3 GAFFER_RATE_LIMITED", most first; "" when none. */
export function formatCounts(by: Record<string, number>): string {
  return Object.entries(by)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${round(ms, 1)} ms` : `${round(ms / 1000, 2)} s`;
}

function formatPercentiles(p: Percentiles | null): string {
  if (!p) return '-';
  return `p50 ${formatMs(p.p50)}  p90 ${formatMs(p.p90)}  p99 ${formatMs(p.p99)}  max ${formatMs(p.max)}`;
}

/** The report for a person: one fact per line. */
export function formatReport(r: LoadReport): string {
  const by = (m: Record<string, number>) => (formatCounts(m) ? ` (${formatCounts(m)})` : '');
  const lines: [string, string][] = [
    ['type', r.type ?? '(routed)'],
    ['duration', `${formatMs(r.durationMs)}, ${r.requests} requests, ${r.achievedRate} jobs/s`],
    ['submitted', String(r.submitted)],
    ['accepted', String(r.accepted)],
    ['rejected', `${r.rejected}${by(r.rejectedByCode)}`],
    ['submit latency', formatPercentiles(r.submitLatencyMs)],
    [
      'completed',
      `${r.completed}: ${r.succeeded} succeeded, ${r.failed} failed${by(failedStates(r.endedByState))}`,
    ],
    ['submit→done', formatPercentiles(r.completionLatencyMs)],
    [
      'unfinished',
      `${r.unfinished}${by(r.unfinishedByState)} after waiting ${formatMs(r.waitedMs)}`,
    ],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

function failedStates(by: Record<string, number>): Record<string, number> {
  const { succeeded: _s, ...rest } = by;
  return rest;
}

/** The live line: "submitted 120 · accepted 118 · rejected 2 · completed 90 · 49.8/s". */
export function progressLine(p: {
  phase: LoadProgress['phase'];
  submitted: number;
  accepted: number;
  rejected: number;
  completed: number;
  ratePerSec: number;
}): string {
  const head = p.phase === 'submitting' ? `${round(p.ratePerSec, 1)}/s` : 'waiting for completions';
  return [
    `submitted ${p.submitted}`,
    `accepted ${p.accepted}`,
    `rejected ${p.rejected}`,
    `completed ${p.completed}`,
    head,
  ].join(' · ');
}
