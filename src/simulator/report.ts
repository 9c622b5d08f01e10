import { costFloor } from './bound.ts';
import { excessP95, summarize, type Metrics } from './metrics.ts';
import type { Run } from './suite.ts';

/**
 * The report: per start-up delay, the full matrix (every trace × policy, means over the seeds),
 * then the autoscaling bars judged per trace, gaffer against KEDA's best setting for each measure
 * — the fastest (lowest excess p95) for waits, the cheapest (fewest worker-seconds) for cost —
 * seed by seed. Plain text only and fixed number formats, so the same seeds give the same bytes.
 */
export interface ReportOptions {
  /** The policy judged by the bars; every other policy in a run is a KEDA setting. */
  subject?: string;
  /** Plot file per run (relative to the report), or none. */
  plotOf?: (run: Run) => string | null;
  header?: string;
}

/** The bars (docs/simulator/README.md, "Bars"). */
export const BARS = {
  /** gaffer's excess p95 ≤ this × KEDA's fastest … */
  waitRatio: 0.05,
  /** … or ≤ this many seconds where KEDA's fastest has under `smallExcessS` of excess. */
  waitFloorS: 0.25,
  smallExcessS: 5,
  /** gaffer's worker-seconds ≤ this × KEDA's cheapest, summed over the traces of a delay … */
  costTotal: 0.7,
  /** … and on every trace. */
  costPerTrace: 1.0,
} as const;

/** The wait bar for a KEDA excess p95 of `kedaExcess` seconds. */
export function waitBar(kedaExcess: number): number {
  return kedaExcess < BARS.smallExcessS
    ? Math.max(BARS.waitFloorS, BARS.waitRatio * kedaExcess)
    : BARS.waitRatio * kedaExcess;
}

/** One seed's judgement of one trace at one delay. */
export interface Verdict {
  trace: string;
  seed: number;
  startupMs: number;
  subject: Metrics;
  subjectExcess: number;
  fastest: Metrics;
  fastestExcess: number;
  cheapest: Metrics;
  /** The cheapest setting's excess p95: what its savings cost in waits. */
  cheapestExcess: number;
  /** The fewest worker-seconds any policy can run the trace in (`costFloor`). */
  floor: number;
  waitOk: boolean;
  costOk: boolean;
  killOk: boolean;
}

/**
 * KEDA's best settings for one run: a setting that left jobs unfinished did not do the work and
 * is not eligible, unless none finished everything.
 */
export function judge(run: Run, subject = 'gaffer'): Verdict {
  const bound = summarize(run.bound);
  const all = run.results.map(summarize);
  const s = all.find((m) => m.policy === subject);
  if (!s) throw new Error(`no run of ${subject} on ${run.trace.name}`);
  const keda = all.filter((m) => m.policy !== subject);
  if (keda.length === 0) throw new Error(`no KEDA setting on ${run.trace.name}`);
  const finished = keda.filter((m) => m.unfinished === 0);
  const eligible = finished.length > 0 ? finished : keda;
  const best = (key: (m: Metrics) => number) =>
    eligible.reduce((a, b) => (key(b) < key(a) ? b : a));
  const fastest = best((m) => excessP95(m, bound));
  const cheapest = best((m) => m.workerSeconds);
  const subjectExcess = excessP95(s, bound);
  const fastestExcess = excessP95(fastest, bound);
  return {
    trace: run.trace.name,
    seed: run.seed,
    startupMs: run.startupMs,
    subject: s,
    subjectExcess,
    fastest,
    fastestExcess,
    cheapest,
    cheapestExcess: excessP95(cheapest, bound),
    floor: costFloor(run.trace),
    waitOk: subjectExcess <= waitBar(fastestExcess) + 1e-9,
    costOk: s.workerSeconds <= BARS.costPerTrace * cheapest.workerSeconds,
    killOk: s.busyKilled === 0,
  };
}

export function renderReport(runs: Run[], options: ReportOptions = {}): string {
  const subject = options.subject ?? 'gaffer';
  const out: string[] = [];
  if (options.header) out.push(options.header, '');
  const delays = unique(runs.map((r) => r.startupMs));
  const seeds = unique(runs.map((r) => r.seed));
  const summary: string[] = [];
  for (const delay of delays) {
    const at = runs.filter((r) => r.startupMs === delay);
    out.push(`## Start-up delay ${seconds(delay)}`, '');
    out.push(
      `Means over ${seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${seeds.join(', ')}`}.`,
      '',
    );
    out.push(...table(at), '');
    const verdicts = at.map((r) => judge(r, subject));
    const { lines, failures } = criteria(verdicts, subject, seeds.length);
    out.push(...lines, '');
    summary.push(...failures.map((f) => `- ${seconds(delay)}: ${f}`));
  }
  out.push(`## Where ${subject} fails the bars`, '');
  out.push(...(summary.length > 0 ? summary : ['- nowhere']), '');
  const plots = runs.map((r) => [r, options.plotOf?.(r)] as const).filter(([, p]) => p);
  if (plots.length > 0) {
    out.push(`## Plots (seed ${seeds[0]})`, '');
    for (const [r, p] of plots) {
      out.push(`### ${r.trace.name}, ${seconds(r.startupMs)}`, '', `![](${p})`, '');
    }
  }
  return out.join('\n').replace(/\n+$/, '\n');
}

/** Runs of one trace at one delay, seed by seed, in first-seen order. */
function byTrace(runs: Run[]): Run[][] {
  const groups = new Map<string, Run[]>();
  for (const r of runs) groups.set(r.trace.name, [...(groups.get(r.trace.name) ?? []), r]);
  return [...groups.values()];
}

function table(runs: Run[]): string[] {
  const rows = [
    '| trace | policy | p50 wait s | p95 wait s | p99 wait s | excess p95 s | worker-s | peak | actions | busy killed | re-run |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const group of byTrace(runs)) {
    const bounds = group.map((r) => summarize(r.bound));
    const name = group[0]!.trace.name;
    rows.push(row(name, mean(bounds), 0, true));
    for (const policy of group[0]!.results.map((r) => r.policy)) {
      const ms = group.map((r) => summarize(r.results.find((x) => x.policy === policy)!));
      const excess = avg(ms.map((m, i) => excessP95(m, bounds[i]!)));
      rows.push(row(name, mean(ms), excess, false));
    }
  }
  return rows;
}

function row(trace: string, m: Metrics, excess: number, isBound: boolean): string {
  const unfinished = m.unfinished > 0 ? ` (${num(m.unfinished)} unfinished)` : '';
  const dash = (v: string) => (isBound ? '—' : v);
  return `| ${trace} | ${isBound ? '_lower bound_' : m.policy}${unfinished} | ${num(m.p50)} | ${num(m.p95)} | ${num(m.p99)} | ${dash(num(excess))} | ${dash(String(Math.round(m.workerSeconds)))} | ${num(m.peakWorkers, 0)} | ${dash(num(m.scalingActions, 0))} | ${dash(num(m.busyKilled, 0))} | ${dash(num(m.jobsRerun, 0))} |`;
}

/** The bars' table for one delay, and one line per bar the subject fails. */
function criteria(
  verdicts: Verdict[],
  subject: string,
  nSeeds: number,
): { lines: string[]; failures: string[] } {
  const lines = [
    `Bars, ${subject} vs KEDA's best setting per measure and seed (fastest: lowest excess p95; cheapest: fewest worker-seconds); values are means over the seeds, a bar passes when it holds on every seed:`,
    '',
    `| trace | ${subject} excess p95 s | KEDA fastest | its excess p95 s | bar s | wait | ${subject} worker-s | KEDA cheapest | its worker-s | its excess p95 s | floor worker-s | ratio | cost ≤ ${BARS.costPerTrace.toFixed(1)}× | busy killed |`,
    '|---|--:|---|--:|--:|---|--:|---|--:|--:|--:|--:|---|--:|',
  ];
  const failures: string[] = [];
  const groups = new Map<string, Verdict[]>();
  for (const v of verdicts) groups.set(v.trace, [...(groups.get(v.trace) ?? []), v]);
  for (const [trace, vs] of groups) {
    const se = avg(vs.map((v) => v.subjectExcess));
    const fe = avg(vs.map((v) => v.fastestExcess));
    const sw = avg(vs.map((v) => v.subject.workerSeconds));
    const cw = avg(vs.map((v) => v.cheapest.workerSeconds));
    const ce = avg(vs.map((v) => v.cheapestExcess));
    const killed = vs.reduce((a, v) => a + v.subject.busyKilled, 0);
    const wait = passes(vs.map((v) => v.waitOk));
    const cost = passes(vs.map((v) => v.costOk));
    lines.push(
      `| ${trace} | ${num(se)} | ${names(vs.map((v) => v.fastest.policy))} | ${num(fe)} | ${num(avg(vs.map((v) => waitBar(v.fastestExcess))), 2)} | ${wait.text} | ${Math.round(sw)} | ${names(vs.map((v) => v.cheapest.policy))} | ${Math.round(cw)} | ${num(ce)} | ${Math.round(avg(vs.map((v) => v.floor)))} | ${ratio(sw / cw)} | ${cost.text} | ${killed} |`,
    );
    if (!wait.ok) {
      failures.push(
        `${trace}: wait — excess p95 ${num(se)} s vs KEDA's fastest ${num(fe)} s (bar ${num(avg(vs.map((v) => waitBar(v.fastestExcess))), 2)} s), ${wait.count} seeds pass`,
      );
    }
    if (!cost.ok) {
      failures.push(
        `${trace}: cost — ${Math.round(sw)} worker-s vs KEDA's cheapest ${Math.round(cw)} (${ratio(sw / cw)}×; its excess p95 ${num(ce)} s), ${cost.count} seeds pass`,
      );
    }
  }
  // The total bar, seed by seed: Σ subject over the traces vs Σ of each trace's cheapest.
  const seeds = unique(verdicts.map((v) => v.seed));
  const totals = seeds.map((seed) => {
    const vs = verdicts.filter((v) => v.seed === seed);
    const s = vs.reduce((a, v) => a + v.subject.workerSeconds, 0);
    const c = vs.reduce((a, v) => a + v.cheapest.workerSeconds, 0);
    const f = vs.reduce((a, v) => a + v.floor, 0);
    return { s, c, f, ok: s <= BARS.costTotal * c };
  });
  const total = passes(totals.map((t) => t.ok));
  const sW = avg(totals.map((t) => t.s));
  const cW = avg(totals.map((t) => t.c));
  const fW = avg(totals.map((t) => t.f));
  const belowFloor = unique(
    verdicts
      .filter((v) => BARS.costPerTrace * v.cheapest.workerSeconds < v.floor)
      .map((v) => v.trace),
  );
  // Cost beside the setting the waits are judged against: what KEDA pays for its best waits.
  const fastestW = avg(
    seeds.map((seed) =>
      verdicts.filter((v) => v.seed === seed).reduce((a, v) => a + v.fastest.workerSeconds, 0),
    ),
  );
  const cheaperThanFastest = verdicts.filter(
    (v) => v.subject.workerSeconds <= v.fastest.workerSeconds,
  ).length;
  const killed = verdicts.reduce((a, v) => a + v.subject.busyKilled, 0);
  const fastestKilled = verdicts.reduce((a, v) => a + v.fastest.busyKilled, 0);
  const waitAll = passes(verdicts.map((v) => v.waitOk));
  const costAll = passes(verdicts.map((v) => v.costOk));
  lines.push(
    '',
    `- ${mark(waitAll.ok)} excess p95 within the wait bar on every trace (${waitAll.count} trace-seeds pass)`,
    `- ${mark(costAll.ok)} worker-seconds ≤ ${BARS.costPerTrace.toFixed(1)} × KEDA's cheapest on every trace (${costAll.count} trace-seeds pass)`,
    `- ${mark(total.ok)} worker-seconds summed over traces: ${Math.round(sW)} vs KEDA's cheapest ${Math.round(cW)} (ratio ${ratio(sW / cW)}, must be ≤ ${BARS.costTotal.toFixed(2)}; ${total.count} seeds pass)`,
    `- ${mark(killed === 0)} busy workers killed: ${killed} (KEDA's fastest settings: ${fastestKilled}) over ${nSeeds} seed${nSeeds === 1 ? '' : 's'}`,
    `- cost floor (no policy runs a trace in fewer worker-seconds than Σ run ÷ concurrency): ${Math.round(fW)} summed over traces, so ${subject}'s total is ${ratio(sW / fW)}× it and KEDA's cheapest ${ratio(cW / fW)}×; the total bar (${Math.round(BARS.costTotal * cW)} worker-s) is ${BARS.costTotal * cW < fW ? 'below' : 'above'} the floor${belowFloor.length > 0 ? `; a per-trace bar below it: ${belowFloor.join(', ')}` : ''}`,
    `- beside KEDA's fastest setting per trace (not a bar): ${subject}'s worker-seconds are ${ratio(sW / fastestW)}× its ${Math.round(fastestW)} summed over traces, and no more than it on ${cheaperThanFastest} of ${verdicts.length} trace-seeds`,
  );
  if (!total.ok) {
    failures.push(
      `total cost — ${Math.round(sW)} worker-s vs KEDA's cheapest ${Math.round(cW)} (${ratio(sW / cW)}×, bar ${BARS.costTotal.toFixed(2)}), ${total.count} seeds pass`,
    );
  }
  if (killed > 0) failures.push(`busy kills — ${killed}`);
  return { lines, failures };
}

/** Whether every seed passed, as "PASS 5/5" / "FAIL 3/5" (seeds passing / seeds). */
function passes(oks: boolean[]): { ok: boolean; text: string; count: string } {
  const n = oks.filter(Boolean).length;
  const ok = n === oks.length;
  const count = `${n} of ${oks.length}`;
  return { ok, text: `${mark(ok)} ${n}/${oks.length}`, count };
}

function mark(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

/** Distinct names, most frequent first (ties in first-seen order). */
function names(list: string[]): string {
  const counts = new Map<string, number>();
  for (const n of list) counts.set(n, (counts.get(n) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  return sorted.length === 1 ? sorted[0]![0] : sorted.map(([n, c]) => `${n} ×${c}`).join(', ');
}

function mean(ms: Metrics[]): Metrics {
  const first = ms[0]!;
  const a = (key: keyof Metrics) => avg(ms.map((m) => m[key] as number));
  return {
    ...first,
    jobs: a('jobs'),
    p50: a('p50'),
    p95: a('p95'),
    p99: a('p99'),
    workerSeconds: a('workerSeconds'),
    peakWorkers: a('peakWorkers'),
    scalingActions: a('scalingActions'),
    busyKilled: a('busyKilled'),
    jobsRerun: a('jobsRerun'),
    unfinished: a('unfinished'),
  };
}

function avg(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function num(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '∞';
}

function ratio(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : '∞';
}

export function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
