import { readFileSync } from 'node:fs';
import path from 'node:path';
import { check, type Fault, type FinalJob, type Submission } from './checker.ts';
import { orphans, poisonFaults, readEffects, readLedger, storeUnfinished } from './observe.ts';
import type { Profile } from './profile.ts';

/**
 * `node chaos/recheck.ts DIR…`: judges again, with the checker as it is now, runs kept by
 * `chaos/loop.ts` (a folder with `run.json` and the run's directory as it was), and prints each
 * verdict: whether a change of the checker explains a failure it saw, and nothing more.
 */
for (const dir of process.argv.slice(2)) {
  const run = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as {
    profile: Profile;
    faults: Fault[];
    submissions: Submission[];
    jobs: FinalJob[];
    brokerMessages: number;
    report: { residue: { orphans: number } } | null;
  };
  const ledger = readLedger(dir);
  const report = check({
    submissions: run.submissions,
    ledger,
    jobs: run.jobs,
    effects: readEffects(dir),
    faults: [...run.faults, ...poisonFaults(ledger)],
    residue: {
      unfinished: storeUnfinished(path.join(dir, 'data')),
      brokerMessages: run.brokerMessages,
      orphans: run.report?.residue.orphans ?? orphans(dir).length,
    },
    maxAttempts: run.profile.maxAttempts,
    maxInFlight: run.profile.max * run.profile.concurrency,
    refused: {},
  });
  const reasons = Object.entries(report.dupReasons)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `${dir}: ${report.valid ? 'valid' : 'INVALID'}; dup exec ${report.dupExec}` +
      `${reasons ? ` (${reasons}; ${report.sandboxed} sandboxed)` : ''}` +
      `${report.problems.length ? `; ${report.problems.join(' | ')}` : ''}`,
  );
}
