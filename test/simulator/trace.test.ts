import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultTraces, spike } from '../../src/simulator/generators.ts';
import { formatTrace, parseTrace, readTrace, writeTrace } from '../../src/simulator/trace.ts';
import { tiny } from './helpers.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-sim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('trace files', () => {
  for (const ext of ['json', 'ndjson']) {
    it(`round-trips through ${ext}`, async () => {
      const trace = {
        ...tiny(
          [
            [0, 1],
            [0.5, 2.25],
            [3, 0],
          ],
          { max: 3, targetPerWorker: 2 },
          4,
        ),
        description: 'x',
      };
      trace.capacity = 7;
      const file = path.join(dir, `t.${ext}`);
      await writeTrace(file, trace);
      assert.deepEqual(await readTrace(file), trace);
      await writeTrace(path.join(dir, `again.${ext}`), await readTrace(file));
      assert.equal(
        readFileSync(path.join(dir, `again.${ext}`), 'utf8'),
        readFileSync(file, 'utf8'),
      );
    });
  }

  it('fills scaling defaults from gaffer’s schema and sorts jobs by arrival', () => {
    const t = parseTrace(
      JSON.stringify({
        version: 1,
        name: 'n',
        types: { a: { scaling: { max: 2 } } },
        jobs: [
          { type: 'a', at: 5, run: 1 },
          { type: 'a', at: 1, run: 2 },
        ],
      }),
    );
    assert.deepEqual(t.types['a'], {
      concurrency: 1,
      scaling: { min: 0, max: 2, threshold: 40, burst: 5, idleSeconds: 30 },
    });
    assert.deepEqual(
      t.jobs.map((j) => j.at),
      [1, 5],
    );
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'a job of an unknown type',
      { types: { a: {} }, jobs: [{ type: 'b', at: 0, run: 1 }] },
      /type is unknown/,
    ],
    [
      'a negative arrival',
      { types: { a: {} }, jobs: [{ type: 'a', at: -1, run: 1 }] },
      /at must be/,
    ],
    ['a bad scaling field', { types: { a: { scaling: { burst: 0 } } }, jobs: [] }, /scaling/],
    ['no types', { types: {}, jobs: [] }, /types is empty/],
    ['a bad capacity', { capacity: 0, types: { a: {} }, jobs: [] }, /capacity/],
  ];
  for (const [name, body, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => parseTrace(JSON.stringify({ version: 1, name: 'n', ...(body as object) })),
        message,
      );
    });
  }

  it('generators are deterministic: the same seed gives the same bytes', () => {
    assert.equal(formatTrace(spike(4)), formatTrace(spike(4)));
    assert.notEqual(formatTrace(spike(4)), formatTrace(spike(5)));
    const a = defaultTraces(1).map((t) => formatTrace(t, true));
    const b = defaultTraces(1).map((t) => formatTrace(t, true));
    assert.deepEqual(a, b);
    assert.equal(spike(1).jobs.length, 10_000);
  });
});
