import { parseArgs } from 'node:util';
import { BACKENDS, backendAvailable, startBackend, type BackendName } from './backends.ts';
import type { Report } from './checker.ts';
import { applies, FAULTS, unavailable, type FaultName } from './faults.ts';
import { PROFILES } from './profile.ts';
import { runScenario } from './run.ts';

/**
 * `npm run chaos [-- --profile short|standard --backend embedded,rabbitmq,redis --fault …]`:
 * every fault × backend, one scenario each, then the checker's table. Exits 1 when any scenario
 * broke a rule (or a backend's server is missing), so CI fails on any loss.
 */
const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'standard' },
    backend: { type: 'string', default: BACKENDS.join(',') },
    fault: { type: 'string', default: FAULTS.join(',') },
  },
});
const profile = PROFILES[values.profile];
if (!profile) {
  throw new Error(`unknown profile ${values.profile}: ${Object.keys(PROFILES).join(', ')}`);
}
const backends = values.backend.split(',') as BackendName[];
const faults = values.fault.split(',') as FaultName[];

const rows: { backend: string; fault: string; report: Report }[] = [];
let failed = false;
for (const name of backends) {
  if (!backendAvailable(name)) {
    console.error(`chaos: ${name}: its server is not installed (scripts/install-deps.sh)`);
    failed = true;
    continue;
  }
  const backend = await startBackend(name);
  try {
    for (const fault of faults.filter((f) => applies(f, name))) {
      const why = unavailable(fault);
      if (why) {
        console.error(`chaos: ${name} × ${fault}: cannot inject here: ${why}`);
        failed = true;
        continue;
      }
      const started = Date.now();
      const report = await runScenario(backend, fault, profile).catch((err: Error) => {
        console.error(`chaos: ${name} × ${fault}: the run broke: ${err.message}`);
        return null;
      });
      if (!report) {
        failed = true;
        continue;
      }
      rows.push({ backend: name, fault, report });
      failed ||= !report.valid;
      console.error(
        `chaos: ${name} × ${fault}: ${report.valid ? 'ok' : 'INVALID'} in ${Math.round((Date.now() - started) / 1000)} s`,
      );
      for (const p of report.problems) console.error(`  ${p}`);
    }
  } finally {
    await backend.stop();
  }
}
console.log(table(rows));
process.exitCode = failed ? 1 : 0;

function table(list: typeof rows): string {
  const head = [
    'backend',
    'fault',
    'attempted',
    'acked',
    'lost',
    'unexpected',
    'recovered',
    'double terminal',
    'dup exec (reasons)',
    'dup effect',
    'wrong outcome',
    'residue',
    'refused (retried)',
    'ticks fired/dropped',
    'max starts per window',
    'valid',
  ];
  const lines = list.map(({ backend, fault, report: r }) => {
    const reasons = Object.entries(r.dupReasons)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const residue = r.residue.unfinished + r.residue.brokerMessages + r.residue.orphans;
    const refused =
      Object.entries(r.refused)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ') || '—';
    return [
      backend,
      fault,
      r.attempted,
      r.acknowledged,
      r.lost,
      r.unexpected,
      r.recovered,
      r.doubleTerminal,
      `${r.dupExec}${reasons ? ` (${reasons})` : ''}${r.unexplained ? ` [${r.unexplained} unexplained]` : ''}`,
      r.dupEffect,
      r.wrongOutcome,
      residue,
      refused,
      r.schedule ? `${r.schedule.fired}/${r.schedule.dropped}` : '—',
      r.rate ? r.rate.maxInWindow : '—',
      r.valid ? 'yes' : 'NO',
    ];
  });
  return [head, head.map(() => '---'), ...lines]
    .map((cols) => `| ${cols.join(' | ')} |`)
    .join('\n');
}
