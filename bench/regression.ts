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
 * alternate which goes first. Prints each round, the medians and now ÷ ref; exits 1 when now is
 * more than `max-loss` slower. The default ref is the last commit before time and flow control
 * (delayed jobs, schedules, pause, rate and key limits) began.
 */
const DEFAULT_REF = '12a169e';
const opt = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const n = Number(opt('n') ?? 20_000);

const child = opt('child');
if (child !== undefined) {
  // One measurement of the tree at `child`: its end-to-end jobs/s on stdout.
  const r = await benchGaffer(n, 'NORMAL', undefined, await loadGaffer(child));
  process.stdout.write(`${r.e2e}\n`);
  process.exit(0);
}

const ref = opt('ref') ?? DEFAULT_REF;
const rounds = Number(opt('rounds') ?? 5);
const maxLoss = Number(opt('max-loss') ?? 0.1);
const here = path.resolve(import.meta.dirname, '..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: here }).toString().trim();
const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
const refTree = mkdtempSync(path.join(os.tmpdir(), 'gaffer-ref-'));

/** One measurement in a fresh process, run from this tree (the no-op handler's path is its). */
function measure(root: string): number {
  const out = spawnSync(
    process.execPath,
    [...process.execArgv, import.meta.filename, `--child=${root}`, `--n=${n}`],
    { cwd: here, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  const e2e = Number(out.stdout.trim().split('\n').at(-1));
  if (out.status !== 0 || !Number.isFinite(e2e)) {
    throw new Error(`measuring ${root} failed (exit ${out.status}): ${out.stdout}`);
  }
  return e2e;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => `${Math.min(...xs)}–${Math.max(...xs)}`;
let verdict = 0;
try {
  execFileSync('sh', ['-c', `git archive "${commit}" | tar -x -C "${refTree}"`], { cwd: here });
  symlinkSync(realpathSync(path.join(here, 'node_modules')), path.join(refTree, 'node_modules'));
  const trees = { now: here, ref: refTree };
  const e2e: Record<keyof typeof trees, number[]> = { now: [], ref: [] };
  console.log(
    `plain jobs end to end, n=${n}: now (${git('rev-parse', '--short', 'HEAD')}) vs ref (${commit.slice(0, 7)})`,
  );
  for (let r = 1; r <= rounds; r++) {
    const order = r % 2 === 1 ? (['now', 'ref'] as const) : (['ref', 'now'] as const);
    for (const which of order) e2e[which].push(measure(trees[which]));
    console.log(
      `round ${r}/${rounds} (load ${os.loadavg()[0]!.toFixed(2)}): now ${e2e.now.at(-1)} jobs/s, ref ${e2e.ref.at(-1)} jobs/s`,
    );
  }
  const ratio = round(median(e2e.now) / median(e2e.ref), 3);
  console.log(`\nmedian of ${rounds} rounds, ${os.cpus().length} cores`);
  console.log('| tree | end to end jobs/s | min–max |');
  console.log('| --- | --- | --- |');
  console.log(`| now | ${median(e2e.now)} | ${spread(e2e.now)} |`);
  console.log(`| ref ${commit.slice(0, 7)} | ${median(e2e.ref)} | ${spread(e2e.ref)} |`);
  console.log(`now ÷ ref: ${ratio}`);
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
