import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { LoadReport } from '../../src/load/report.ts';
import type { Percentiles } from '../../src/load/stats.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

/** Runs the CLI as a subprocess (stdout is a pipe: no live progress); never rejects. */
async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      env: { ...process.env, GAFFER_URL: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** What every report must hold, whatever the timings were. */
function assertConsistent(r: LoadReport): void {
  assert.equal(r.submitted, r.accepted + r.rejected, 'submitted = accepted + rejected');
  const byCode = Object.values(r.rejectedByCode).reduce((a, b) => a + b, 0);
  assert.equal(byCode, r.rejected, 'rejections by code add up');
  assert.ok(r.completed <= r.accepted, 'completed ≤ accepted');
  assert.equal(r.completed + r.unfinished, r.accepted, 'completed + unfinished = accepted');
  assert.equal(r.succeeded + r.failed, r.completed);
  const ordered = (p: Percentiles | null, what: string) => {
    if (!p) return;
    assert.ok(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.max, `${what} ordered`);
    assert.ok(p.p50 >= 0, `${what} not negative`);
  };
  ordered(r.submitLatencyMs, 'submit latency');
  ordered(r.completionLatencyMs, 'completion latency');
  assert.equal(r.submitLatencyMs?.count ?? 0, r.requests);
  assert.equal(r.completionLatencyMs?.count ?? 0, r.completed);
}

describe('gaffer load against a real gaffer', () => {
  let g: TestGaffer;
  let url: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-load-'));
  const csv = path.join(dir, 'rows.csv');

  before(async () => {
    g = await startGaffer({
      jobTypes: {
        row: {
          worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
          concurrency: 8,
          scaling: { min: 0, max: 2, threshold: 0 },
          payloadSchema: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'string', pattern: '^[0-9]+$' } },
          },
        },
      },
    });
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
    // Three rows, the last one refused by the payload schema: a third of the jobs are rejected.
    writeFileSync(csv, 'id,name\n1,ada\n2,grace\nnot-a-number,bad\n');
  });
  after(async () => {
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const load = async (args: string[]) => {
    const r = await cli(['load', '--type', 'row', '--json', '--url', url, ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress on a pipe');
    const report = JSON.parse(r.stdout) as LoadReport;
    assertConsistent(report);
    return report;
  };

  it('-r 50 -t 2s with a template: counts add up, jobs are followed to their end', async () => {
    // --wait-completion is only a safety net: the run stops watching once every job has ended.
    const template = '{"id": "{{i}}", "u": "{{uuid}}"}';
    const r = await load([
      '-r',
      '50',
      '-t',
      '2s',
      '--payload',
      template,
      '--wait-completion',
      '120s',
    ]);
    assert.ok(r.submitted > 0 && r.submitted <= 100, `at most rate × time: ${r.submitted}`);
    assert.equal(r.rejected, 0);
    assert.equal(r.requests, r.submitted, 'one request per job without --batch');
    // Followed by sweeps of the job list, not the sampled event stream: none is missed.
    assert.equal(r.completed, r.accepted, 'every accepted job was seen to end');
    assert.equal(r.succeeded, r.accepted);
    assert.equal(r.completionLatencyMs?.count, r.accepted);
    const jobs = await g.orch.store.list({ type: 'row', limit: 1000 });
    assert.equal(jobs.jobs.length, r.accepted, 'every accepted job is in the store');
  });

  it('--csv cycles the rows and reports rejections by code', async () => {
    const r = await load(['-r', '100', '-n', '30', '--csv', csv, '--wait-completion', '30s']);
    assert.equal(r.submitted, 30);
    assert.equal(r.rejected, 10);
    assert.deepEqual(r.rejectedByCode, { GAFFER_PAYLOAD_INVALID: 10 });
    assert.equal(r.accepted, 20);
  });

  it('--csv with --batch and -c: batches of N, the last one cut to the count', async () => {
    const r = await load(['-c', '2', '-n', '23', '--batch', '5', '--csv', csv]);
    assert.equal(r.submitted, 23);
    assert.equal(r.requests, 5);
    assert.equal(r.rejected, 7, 'rows 3, 6, …, 21 of 23 are the bad one');
    assert.deepEqual(r.rejectedByCode, { GAFFER_PAYLOAD_INVALID: 7 });
  });

  it('prints a report for a person without --json', async () => {
    const r = await cli([
      'load',
      '--type',
      'row',
      '--url',
      url,
      '-c',
      '1',
      '-n',
      '3',
      '--wait-completion',
      '0',
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const label of [
      'submitted',
      'accepted',
      'rejected',
      'submit latency',
      'completed',
      'unfinished',
    ]) {
      assert.match(r.stdout, new RegExp(`^${label} +`, 'm'));
    }
  });
});

describe('gaffer load usage errors exit 2', () => {
  const cases: [string, string[]][] = [
    ['neither rate nor concurrency', ['-t', '1s']],
    ['neither time nor count', ['-r', '10']],
    ['a rate of 0', ['-r', '0', '-t', '1s']],
    ['an unknown placeholder', ['-r', '1', '-n', '1', '--payload', '{"a": {{row}}}']],
    ['a template that is not JSON', ['-r', '1', '-n', '1', '--payload', '{"a": ']],
    ['both --payload and --csv', ['-r', '1', '-n', '1', '--payload', '{}', '--csv', 'x.csv']],
    ['a missing CSV', ['-r', '1', '-n', '1', '--csv', '/no/such/file.csv']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await cli(['load', '--url', 'http://127.0.0.1:9', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.length > 0);
    });
  }
});
