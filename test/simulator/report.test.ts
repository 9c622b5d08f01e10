import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/simulator/main.ts';

// The report checked into docs/ is what `npm run simulate` writes today: a change to the policy,
// the models or the traces that moves a number must come with the regenerated report.
test('docs/simulator/report.md is current (npm run simulate regenerates it byte for byte)', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'gaffer-sim-'));
  try {
    const write = process.stderr.write;
    process.stderr.write = () => true; // the per-run progress lines
    try {
      await main(['--out', out]);
    } finally {
      process.stderr.write = write;
    }
    const docs = new URL('../../docs/simulator/report.md', import.meta.url);
    assert.equal(readFileSync(path.join(out, 'report.md'), 'utf8'), readFileSync(docs, 'utf8'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
