import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { CSV_HEADER, csvChunks, csvLine, generateRows } from '../../src/cli/commands/gen-data.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-gen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function gen(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, 'gen-data', ...args], { encoding: 'utf8' });
}

describe('gen-data', () => {
  it('writes a header and exactly n rows', () => {
    const file = path.join(dir, 'data.csv');
    const r = gen('-n', '1234', '-o', file);
    assert.equal(r.status, 0, r.stderr);
    const rows = parse(readFileSync(file, 'utf8')) as string[][];
    assert.deepEqual(rows[0], CSV_HEADER);
    assert.equal(rows.length, 1235);
    assert.deepEqual(
      rows.slice(1, 4).map((r) => r[0]),
      ['1', '2', '3'],
    );
    for (const row of rows.slice(1)) {
      assert.equal(row.length, CSV_HEADER.length);
      assert.match(row[2]!, /^[^@\s]+@[^@\s]+\.[a-z]+$/);
      assert.match(row[3]!, /^\d+\.\d{2}$/);
      assert.ok(!Number.isNaN(Date.parse(row[6]!)));
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = gen('-n', '200', '--seed', '42', '-o', '-');
    const b = gen('-n', '200', '--seed', '42', '-o', '-');
    const c = gen('-n', '200', '--seed', '43', '-o', '-');
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.stdout, c.stdout);
    assert.equal(a.stdout.trimEnd().split('\n').length, 201);
  });

  it('streams: chunks stay small however many rows', () => {
    let rows = 0;
    let biggest = 0;
    for (const chunk of csvChunks({ rows: 50_000, seed: 1 })) {
      rows += chunk.split('\n').length - 1;
      biggest = Math.max(biggest, chunk.length);
    }
    assert.equal(rows, 50_001);
    assert.ok(biggest < 70 * 1024, `chunk of ${biggest} chars`);
  });

  it('makes the requested fraction of rows invalid', () => {
    const rows = [...generateRows({ rows: 10_000, seed: 5, invalid: 0.1 })];
    const bad = rows.filter((r) => !r[2]!.includes('@') || r[3] === 'n/a').length;
    assert.ok(bad > 800 && bad < 1200, `${bad} invalid rows`);
    const none = [...generateRows({ rows: 1000, seed: 5 })];
    assert.ok(none.every((r) => r[2]!.includes('@') && r[3] !== 'n/a'));
  });

  it('quotes cells that need it', () => {
    assert.equal(csvLine(['a', 'b,c', 'say "hi"']), 'a,"b,c","say ""hi"""');
  });

  it('rejects bad options with exit code 2', () => {
    assert.equal(gen('-n', 'many').status, 2);
    assert.equal(gen('--invalid', '2', '-o', '-').status, 2);
    assert.equal(gen('-n', '1', '-o', path.join(dir, 'no/such/dir/x.csv')).status, 2);
  });
});
