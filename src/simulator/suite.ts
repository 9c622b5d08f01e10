import { decide } from '../autoscaler/decide.ts';
import type { DecideFn } from '../autoscaler/policy.ts';
import { capacityBinds, sharedCapacityBound } from './bound.ts';
import { simulate, type SimResult } from './loop.ts';
import { kedaSettings } from './keda.ts';
import { gafferPolicy, lowerBound, type SimPolicy } from './policy.ts';
import type { Trace } from './trace.ts';

/**
 * The simulation matrix: every trace × every policy × every start-up delay, plus each trace's
 * lower bound per delay. The policy under test is a parameter: whoever reworks gaffer's policy
 * passes their DecideFn here (or to `npm run simulate`'s main) and gets the same report.
 */
export const DELAYS_MS = [200, 5000];

export function standardPolicies(
  policy: DecideFn = decide,
  options: { intervalMs?: number } = {},
): SimPolicy[] {
  return [gafferPolicy(policy, { name: 'gaffer', ...options }), ...kedaSettings()];
}

export interface Run {
  trace: Trace;
  seed: number;
  startupMs: number;
  bound: SimResult;
  results: SimResult[];
}

export function runSuite(
  traces: Trace[],
  policies: SimPolicy[],
  options: { delaysMs?: number[]; seed?: number; onRun?: (r: SimResult) => void } = {},
): Run[] {
  const runs: Run[] = [];
  const seed = options.seed ?? 1;
  for (const startupMs of options.delaysMs ?? DELAYS_MS) {
    for (const trace of traces) {
      const sim = (p: SimPolicy) => {
        const r = simulate(trace, p, { startupMs, seed });
        options.onRun?.(r);
        return r;
      };
      // A binding global capacity is shared by the bound's workers (bound.ts); otherwise each type
      // has its max from t = 0 (policy.ts).
      const bound = capacityBinds(trace)
        ? sharedCapacityBound(trace, startupMs)
        : sim(lowerBound());
      if (capacityBinds(trace)) options.onRun?.(bound);
      runs.push({ trace, seed, startupMs, bound, results: policies.map(sim) });
    }
  }
  return runs;
}
