import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  BACKENDS,
  backendAvailable,
  startBackend,
  type Backend,
  type BackendName,
} from './backends.ts';
import { applies, FAULTS, unavailable, type FaultName } from './faults.ts';
import { PROFILES } from './profile.ts';
import { runScenario, type ScenarioReport } from './run.ts';

/**
 * `npm run chaos:loop -- [--runs 10] [--profile short] [--backend redis] [--fault worker-kill]
 * [--load 2] [--out DIR] [--keep-going] [--keep-all]`: runs the chosen scenarios (backend × fault, by default
 * the whole profile, as `npm run chaos` does) `runs` times in a row, each run starting its
 * backends afresh as CI does. It stops at the first failed scenario (unless `--keep-going`), its
 * artefacts kept in `DIR/run<n>-<backend>-<fault>/` (see ScenarioOptions in run.ts). One line per
 * scenario, one per run, then the tally; exits 1 when any scenario failed. `--keep-all` keeps every
 * scenario's artefacts, passed or not.
 *
 * `--load N` adds N CPU burners (busy loops, local processes) for the whole loop, so a flaky
 * scenario can be met under the load CI sees; each ends on its own after `--load-max-s` or once
 * this process is gone, and all are killed at the end.
 */
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    profile: { type: 'string', default: 'short' },
    backend: { type: 'string', default: BACKENDS.join(',') },
    fault: { type: 'string', default: FAULTS.join(',') },
    load: { type: 'string', default: '0' },
    'load-max-s': { type: 'string', default: '10800' },
    out: { type: 'string' },
    'keep-going': { type: 'boolean', default: false },
    'keep-all': { type: 'boolean', default: false },
  },
});
const chosen = PROFILES[values.profile];
if (!chosen) throw new Error(`unknown profile ${values.profile}`);
const profile = chosen;
const runs = Number(values.runs);
const backends = values.backend.split(',') as BackendName[];
const faults = values.fault.split(',') as FaultName[];
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = path.resolve(values.out ?? path.join(os.tmpdir(), `gaffer-chaos-loop-${stamp}`));

/**
 * SIGINT or SIGTERM: stop after the scenario under way (its gaffer, backend and burners go
 * cleanly) and print the tally; a second one exits at once.
 */
let stopAsked = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopAsked) process.exit(130);
    stopAsked = true;
    console.log(`chaos loop: ${sig}: stopping after the scenario under way`);
  });
}

const burners = startLoad(Number(values.load), Number(values['load-max-s']));
const say = (line: string) => console.log(line);
say(
  `chaos loop: ${runs} run(s) of the ${profile.name} profile, backends ${backends.join(',')}, ` +
    `faults ${values.fault === FAULTS.join(',') ? 'all' : faults.join(',')}, ` +
    `${burners.length} CPU burner(s), ${os.cpus().length} cores, load ${loadavg()}, ` +
    `failures kept in ${out}`,
);

interface Tally {
  scenarios: number;
  failed: string[];
}
const tally: Tally = { scenarios: 0, failed: [] };
const loopStart = Date.now();
let runsDone = 0;
try {
  for (let n = 1; n <= runs; n++) {
    const before = tally.failed.length;
    const started = Date.now();
    const count = await oneRun(n, tally);
    runsDone = n;
    const bad = tally.failed.length - before;
    say(
      `run ${n}/${runs}: ${bad === 0 ? 'PASS' : 'FAIL'} — ${count - bad}/${count} scenarios ok in ` +
        `${secs(started)} s, load ${loadavg()}`,
    );
    if ((bad > 0 && !values['keep-going']) || stopAsked) break;
  }
} finally {
  for (const b of burners) b.kill('SIGKILL');
}
say(
  `tally: ${runsDone}/${runs} run(s), ${tally.scenarios} scenarios, ${tally.failed.length} failed` +
    `${tally.failed.length ? ` (${tally.failed.join('; ')})` : ''}, in ${secs(loopStart)} s`,
);
process.exitCode = tally.failed.length > 0 ? 1 : 0;

/** One run of every chosen scenario, backend by backend; returns how many scenarios ran. */
async function oneRun(n: number, t: Tally): Promise<number> {
  let count = 0;
  const fail = (what: string, why: string, kept?: string) => {
    t.failed.push(`run ${n} ${what}`);
    say(`  run ${n} ${what}: FAIL ${why}${kept ? ` (artefacts: ${kept})` : ''}`);
  };
  for (const name of backends) {
    if (stopAsked) return count;
    if (!backendAvailable(name)) {
      count++;
      t.scenarios++;
      fail(name, 'its server is not installed (scripts/install-deps.sh)');
      return count;
    }
    let backend: Backend;
    try {
      backend = await startBackend(name);
    } catch (err) {
      count++;
      t.scenarios++;
      fail(name, `its server did not start: ${(err as Error).message.split('\n')[0]}`);
      if (!values['keep-going']) return count;
      continue;
    }
    try {
      for (const fault of faults.filter((f) => applies(f, name))) {
        if (stopAsked) return count;
        const what = `${name} × ${fault}`;
        count++;
        t.scenarios++;
        const why = unavailable(fault);
        if (why) {
          fail(what, `cannot inject here: ${why}`);
          if (!values['keep-going']) return count;
          continue;
        }
        const kept = path.join(out, `run${n}-${name}-${fault}`);
        const started = Date.now();
        let report: ScenarioReport | null = null;
        let error = '';
        try {
          report = await runScenario(backend, fault, profile, {
            keep: kept,
            keepAlways: values['keep-all'],
          });
        } catch (err) {
          error = `the run broke: ${(err as Error).message}`;
        }
        if (report?.valid) {
          const ended = Object.entries(report.attemptsEnded)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          const phases =
            `drain ${report.drainMs / 1000} s, settle ${report.settleMs / 1000} s` +
            (ended ? `; attempts lost: ${ended}` : '');
          const where = values['keep-all'] ? ` (artefacts: ${kept})` : '';
          say(`  run ${n} ${what}: ok in ${secs(started)} s (${phases})${dups(report)}${where}`);
          continue;
        }
        fail(what, `in ${secs(started)} s: ${error || report!.problems.join(' | ')}`, kept);
        if (!values['keep-going']) return count;
      }
    } finally {
      await backend.stop();
    }
  }
  return count;
}

/** The duplicates a valid run had, and what explained them; a schedule's ticks, a rate's peak. */
function dups(r: ScenarioReport): string {
  const timed = [
    r.schedule ? ` ticks fired ${r.schedule.fired}, dropped ${r.schedule.dropped}` : '',
    r.rate ? ` at most ${r.rate.maxInWindow} starts per window` : '',
  ]
    .filter(Boolean)
    .join(';');
  if (r.dupExec === 0) return timed;
  const why = Object.entries(r.dupReasons)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const sandboxed = r.sandboxed ? ` (${r.sandboxed} sandboxed, their worker hit)` : '';
  return `${timed}${timed ? ';' : ''} dup exec ${r.dupExec}: ${why}${sandboxed}`;
}

/**
 * `n` busy loops, each its own process: local CPU load only. Each stops by itself after `maxS`,
 * or as soon as its parent (this loop) is gone, so none outlives a killed loop for long.
 */
function startLoad(n: number, maxS: number): ChildProcess[] {
  const code = `
    const end = Date.now() + ${maxS} * 1000, parent = process.ppid;
    for (let i = 0; Date.now() < end; i++) if (i % 1e6 === 0 && process.ppid !== parent) break;`;
  return Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', code], { stdio: 'ignore' }),
  );
}

function loadavg(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join('/');
}

function secs(since: number): number {
  return Math.round((Date.now() - since) / 1000);
}
