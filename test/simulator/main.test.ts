import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/simulator/main.ts';
import { writeTrace } from '../../src/simulator/trace.ts';
import { tiny } from './helpers.ts';

/** Runs `npm run simulate -- …` in process; returns what it printed on stdout. */
async function simulate(args: string[]): Promise<string> {
  const out: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  process.stdout.write = (chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  };
  process.stderr.write = () => true;
  try {
    await main(args);
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
  return out.join('');
}

describe('npm run simulate -- --json', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-sim-json-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const a = path.join(dir, 'a.json');
  const b = path.join(dir, 'b.ndjson');

  it('prints one object per trace × policy × delay × seed, with the fields scripts read', async () => {
    await writeTrace(a, {
      ...tiny([
        [0, 3],
        [1, 3],
        [30, 100],
      ]),
      name: 'a',
    });
    await writeTrace(b, {
      ...tiny(
        [
          [0, 5],
          [0, 5],
        ],
        { max: 2 },
      ),
      name: 'b',
    });
    const text = await simulate([
      '--trace',
      a,
      '--trace',
      b,
      '--delays',
      '200,5000',
      '--seeds',
      '1,2',
      '--json',
    ]);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const policies = ['gaffer', 'keda-t1', 'keda-t5', 'keda-t20', 'keda-scaledjob'];
    assert.equal(lines.length, 2 * 5 * 2 * 2);
    for (const trace of ['a', 'b']) {
      for (const startupMs of [200, 5000]) {
        for (const seed of [1, 2]) {
          const got = lines.filter(
            (l) => l['trace'] === trace && l['startupMs'] === startupMs && l['seed'] === seed,
          );
          assert.deepEqual(
            got.map((l) => l['policy']),
            policies,
            `${trace} ${startupMs} ${seed}`,
          );
        }
      }
    }
    for (const l of lines) {
      for (const key of ['waitP95Ms', 'lowerBoundP95Ms', 'workerSeconds', 'busyKilled', 'jobs']) {
        assert.equal(typeof l[key], 'number', `${key} in ${JSON.stringify(l)}`);
      }
      assert.equal(l['jobs'], l['trace'] === 'a' ? 3 : 2);
      assert.equal(l['excessP95Ms'], (l['waitP95Ms'] as number) - (l['lowerBoundP95Ms'] as number));
    }
    // Hand-computed: gaffer starts workers on the first arrival, ready 0.2 s later; the bound's
    // workers start at t = 0 and are ready at 0.2 s too.
    const gaffer = lines.find(
      (l) => l['trace'] === 'b' && l['policy'] === 'gaffer' && l['startupMs'] === 200,
    )!;
    assert.equal(gaffer['waitP95Ms'], 200);
    assert.equal(gaffer['lowerBoundP95Ms'], 200);
  });

  it('--seed N runs one seed; --seed and --seeds together are refused', async () => {
    await writeTrace(a, { ...tiny([[0, 3]]), name: 'a' });
    const one = await simulate(['--trace', a, '--delays', '200', '--seed', '7', '--json']);
    const seeds = one
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { seed: number }).seed);
    assert.deepEqual([...new Set(seeds)], [7]);
    await assert.rejects(simulate(['--trace', a, '--seed', '1', '--seeds', '1,2']), /pick one/);
  });

  it('without --json a trace file still gets the report on stdout', async () => {
    await writeTrace(a, { ...tiny([[0, 3]]), name: 'a' });
    const report = await simulate(['--trace', a, '--delays', '200']);
    assert.match(report, /^\| a \| gaffer \|/m);
    assert.match(report, /^\| a \| keda-t20 \|/m);
    assert.match(report, /busy workers killed: 0 /);
  });
});
