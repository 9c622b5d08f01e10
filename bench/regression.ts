import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchGaffer, loadGaffer } from './gaffer.ts';
import { round } from './lib.ts';

/**
 * `npm run bench:regression [-- --ref=<git-rev> --n=20000 --rounds=5 --max-loss=0.1]`: plain jobs'
 * end-to-end throughput (the `npm run bench` row "gaffer embedded (synchronous=NORMAL)": 50
 * concurrent submits, one pool worker of concurrency 50, no-op jobs) of this tree against an older
 * commit, by the same harness: `ref`'s files are extracted (`git archive`) into a temporary
 * folder beside a link to this tree's node_modules, and each measurement runs in a fresh node
 * process that loads only the tree it measures (`loadGaffer`). Rounds interleave the two, and
 * alternate which goes first. Prints each round, the medians and now ÷ ref; exits 1 when now's
 * median jobs/s is more than `max-loss` below ref's. Also the CPU time per job of gaffer's process
 * and of its worker (on a loaded machine the rate varies far more than the work each job costs),
 * and the row's bulk submission rate (`submitMany` in chunks of 1,000), which decides nothing.
 *
 * The default ref is main just before time and flow control (delayed jobs, schedules, pause, rate
 * and key limits) entered it: the last commit of main's first-parent line without any of that work.
 * The branches that built it forked from 12a169e, 11 commits earlier; from there the comparison
 * would also count main's orchestrator restructuring of those 11 commits.
 */
const DEFAULT_REF = 'd2e33a0';
const opt = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const n = Number(opt('n') ?? 20_000);

const child = opt('child');
if (child !== undefined) {
  // One measurement of the tree at `child`: its end-to-end jobs/s and CPU µs per job on stdout.
  const r = await benchGaffer(n, 'NORMAL', undefined, await loadGaffer(child));
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}

const ref = opt('ref') ?? DEFAULT_REF;
const rounds = Number(opt('rounds') ?? 5);
const maxLoss = Number(opt('max-loss') ?? 0.1);
const here = path.resolve(import.meta.dirname, '..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: here }).toString().trim();
const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
const refTree = mkdtempSync(path.join(os.tmpdir(), 'gaffer-ref-'));

interface Measurement {
  submit: number;
  e2e: number;
  cpuUs: number;
  workerCpuUs: number;
}

/** One measurement in a fresh process, run from this tree (the no-op handler's path is its). */
function measure(root: string): Measurement {
  const out = spawnSync(
    process.execPath,
    [...process.execArgv, import.meta.filename, `--child=${root}`, `--n=${n}`],
    { cwd: here, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  if (out.status !== 0) throw new Error(`measuring ${root} failed (exit ${out.status})`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as Measurement;
}

const show = (m: Measurement) =>
  `${m.e2e} jobs/s, CPU ${m.cpuUs} µs/job gaffer, ${m.workerCpuUs} worker, submit ${m.submit}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => `${Math.min(...xs)}–${Math.max(...xs)}`;
const row = (name: string, ms: Measurement[]) =>
  [
    ms.map((m) => m.e2e),
    ms.map((m) => m.cpuUs),
    ms.map((m) => m.workerCpuUs),
    ms.map((m) => m.submit),
  ].reduce((line, xs) => `${line} ${median(xs)} | ${spread(xs)} |`, `| ${name} |`);
let verdict = 0;
try {
  execFileSync('sh', ['-c', `git archive "${commit}" | tar -x -C "${refTree}"`], { cwd: here });
  symlinkSync(realpathSync(path.join(here, 'node_modules')), path.join(refTree, 'node_modules'));
  const trees = { now: here, ref: refTree };
  const runs: Record<keyof typeof trees, Measurement[]> = { now: [], ref: [] };
  const head = git('rev-parse', '--short', 'HEAD');
  console.log(`plain jobs end to end, n=${n}: now (${head}) vs ref (${commit.slice(0, 7)})`);
  for (let r = 1; r <= rounds; r++) {
    const order = r % 2 === 1 ? (['now', 'ref'] as const) : (['ref', 'now'] as const);
    for (const which of order) runs[which].push(measure(trees[which]));
    const [now, old] = [runs.now.at(-1)!, runs.ref.at(-1)!];
    console.log(
      `round ${r}/${rounds} (load ${os.loadavg()[0]!.toFixed(2)}): now ${show(now)}; ref ${show(old)}`,
    );
  }
  const ratio = round(median(runs.now.map((m) => m.e2e)) / median(runs.ref.map((m) => m.e2e)), 3);
  const paired = runs.now.map((m, i) => round(m.e2e / runs.ref[i]!.e2e, 2));
  console.log(`\nmedian of ${rounds} rounds, ${os.cpus().length} cores`);
  console.log(
    '| tree | end to end jobs/s | min–max | gaffer CPU µs/job | min–max | worker CPU µs/job | min–max | submit jobs/s | min–max |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  console.log(row('now', runs.now));
  console.log(row(`ref ${commit.slice(0, 7)}`, runs.ref));
  const cpu = (ms: Measurement[]) => median(ms.map((m) => m.cpuUs + m.workerCpuUs));
  console.log(`now ÷ ref, jobs/s (medians): ${ratio}; by round: ${spread(paired)}`);
  console.log(
    `now ÷ ref, CPU per job (gaffer + worker, medians): ${round(cpu(runs.now) / cpu(runs.ref), 3)}`,
  );
  const submit = (ms: Measurement[]) => median(ms.map((m) => m.submit));
  console.log(`now ÷ ref, bulk submit (medians): ${round(submit(runs.now) / submit(runs.ref), 3)}`);
  if (ratio < 1 - maxLoss) {
    console.log(`REGRESSION: now is more than ${maxLoss * 100}% slower than ${ref}`);
    verdict = 1;
  }
} finally {
  // The link first, so that removing the folder cannot reach into this tree's node_modules.
  rmSync(path.join(refTree, 'node_modules'), { force: true });
  rmSync(refTree, { recursive: true, force: true });
}
process.exit(verdict);
