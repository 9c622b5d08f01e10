import { excessP95, summarize, type Metrics } from './metrics.ts';
import type { Run } from './suite.ts';

/**
 * The report: one table per start-up delay and the three autoscaling criteria, gaffer against KEDA
 * ScaledObject. Plain text only and fixed number formats, so a seed gives the same bytes.
 */
export interface ReportOptions {
  /** The policy judged by the criteria and the baseline it is judged against. */
  subject?: string;
  baseline?: string;
  /** Plot file per run (relative to the report), or none. */
  plotOf?: (run: Run) => string | null;
  header?: string;
}

export function renderReport(runs: Run[], options: ReportOptions = {}): string {
  const subject = options.subject ?? 'gaffer';
  const baseline = options.baseline ?? 'KEDA ScaledObject';
  const out: string[] = [];
  if (options.header) out.push(options.header, '');
  const delays = [...new Set(runs.map((r) => r.startupMs))];
  for (const delay of delays) {
    const at = runs.filter((r) => r.startupMs === delay);
    out.push(`## Start-up delay ${seconds(delay)}`, '');
    out.push(...table(at), '');
    out.push(...criteria(at, subject, baseline), '');
  }
  const plots = runs.map((r) => [r, options.plotOf?.(r)] as const).filter(([, p]) => p);
  if (plots.length > 0) {
    out.push('## Plots', '');
    for (const [r, p] of plots) {
      out.push(`### ${r.trace.name}, ${seconds(r.startupMs)}`, '', `![](${p})`, '');
    }
  }
  return out.join('\n').replace(/\n+$/, '\n');
}

function table(runs: Run[]): string[] {
  const rows = [
    '| trace | policy | p50 wait s | p95 wait s | p99 wait s | excess p95 s | worker-s | peak | actions | busy killed | re-run |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const run of runs) {
    const bound = summarize(run.bound);
    rows.push(row(run.trace.name, bound, bound, true));
    for (const r of run.results) rows.push(row(run.trace.name, summarize(r), bound, false));
  }
  return rows;
}

function row(trace: string, m: Metrics, bound: Metrics, isBound: boolean): string {
  const unfinished = m.unfinished > 0 ? ` (${m.unfinished} unfinished)` : '';
  return `| ${trace} | ${isBound ? '_lower bound_' : m.policy}${unfinished} | ${num(m.p50)} | ${num(m.p95)} | ${num(m.p99)} | ${isBound ? '—' : num(excessP95(m, bound))} | ${isBound ? '—' : Math.round(m.workerSeconds)} | ${m.peakWorkers} | ${isBound ? '—' : m.scalingActions} | ${isBound ? '—' : m.busyKilled} | ${isBound ? '—' : m.jobsRerun} |`;
}

/** The autoscaling criteria's pass/fail lines for one delay. */
function criteria(runs: Run[], subject: string, baseline: string): string[] {
  const out = [`Autoscaling criteria, ${subject} vs ${baseline} (same max workers):`, ''];
  let allWait = true;
  let sWs = 0;
  let bWs = 0;
  let sKilled = 0;
  let bKilled = 0;
  for (const run of runs) {
    const bound = summarize(run.bound);
    const s = pick(run, subject);
    const b = pick(run, baseline);
    const se = excessP95(s, bound);
    const be = excessP95(b, bound);
    const ok = se <= 0.25 * be;
    allWait &&= ok;
    sWs += s.workerSeconds;
    bWs += b.workerSeconds;
    sKilled += s.busyKilled;
    bKilled += b.busyKilled;
    out.push(
      `- ${ok ? 'PASS' : 'FAIL'} ${run.trace.name}: excess p95 ${num(se)} s vs 0.25 × ${num(be)} s = ${num(0.25 * be)} s` +
        (be > 0 ? ` (${subject} at ${ratio(se / be)} of ${baseline}'s)` : ''),
    );
  }
  const wsOk = sWs <= bWs;
  out.push(
    `- ${allWait ? 'PASS' : 'FAIL'} excess p95 ≤ 0.25 × ${baseline}'s on every trace`,
    `- ${wsOk ? 'PASS' : 'FAIL'} worker-seconds summed over traces: ${Math.round(sWs)} vs ${Math.round(bWs)} (ratio ${ratio(sWs / bWs)}, must be ≤ 1.00)`,
    `- ${sKilled === 0 ? 'PASS' : 'FAIL'} busy workers killed: ${sKilled} (${baseline}: ${bKilled})`,
  );
  return out;
}

function pick(run: Run, policy: string): Metrics {
  const r = run.results.find((x) => x.policy === policy);
  if (!r) throw new Error(`no run of ${policy} on ${run.trace.name}`);
  return summarize(r);
}

function num(v: number): string {
  return Number.isFinite(v) ? v.toFixed(1) : '∞';
}

function ratio(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : '∞';
}

export function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
