import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatAgo,
  formatBytes,
  formatDuration,
  keyValues,
  pad,
  table,
  truncate,
  wrap,
} from '../../src/cli/format.ts';
import { renderJob } from '../../src/cli/commands/job.ts';
import { renderJobs } from '../../src/cli/commands/jobs.ts';
import type { ApiJob } from '../../src/client/index.ts';

describe('formatDuration', () => {
  const cases: [number | null, string][] = [
    [null, '-'],
    [-5, '0ms'],
    [0, '0ms'],
    [850, '850ms'],
    [1000, '1.0s'],
    [1250, '1.2s'],
    [9999, '9.9s'],
    [42_000, '42s'],
    [185_000, '3m 05s'],
    [2 * 3600_000 + 3 * 60_000, '2h 03m'],
    [28 * 3600_000, '1d 04h'],
  ];
  for (const [ms, want] of cases) {
    it(`${ms} → ${want}`, () => assert.equal(formatDuration(ms), want));
  }
});

describe('text helpers', () => {
  it('truncates with an ellipsis only when needed', () => {
    assert.equal(truncate('abcdef', 10), 'abcdef');
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abcdef', 1), '…');
    assert.equal(truncate('abcdef', 0), '');
  });
  it('pads left and right', () => {
    assert.equal(pad('7', 3, 'right'), '  7');
    assert.equal(pad('ab', 3), 'ab ');
    assert.equal(pad('abcd', 3), 'abcd');
  });
  it('formats bytes and ages', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MiB');
    assert.equal(formatAgo(1000, 6000), '5.0s ago');
    assert.equal(formatAgo(null, 6000), '-');
  });
  it('wraps at spaces, splitting only words longer than the width', () => {
    assert.deepEqual(wrap('aaa bbb ccc ddd', 10), ['aaa bbb', 'ccc ddd']);
    assert.deepEqual(wrap('x'.repeat(25), 10), ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    assert.deepEqual(wrap('', 10), []);
  });
  it('aligns key: value pairs', () => {
    assert.equal(
      keyValues([
        ['id', 'x'],
        ['state', 'queued'],
      ]),
      'id:    x\nstate: queued',
    );
  });
});

describe('table', () => {
  it('pads columns to the widest cell and right-aligns numbers', () => {
    const out = table(
      ['NAME', 'N'],
      [
        ['a', '1'],
        ['long-name', '100'],
      ],
      {
        align: ['left', 'right'],
      },
    );
    assert.equal(
      out,
      ['NAME         N', '─────────  ───', 'a            1', 'long-name  100'].join('\n'),
    );
  });
  it('cuts lines to maxWidth', () => {
    const out = table(['A', 'B'], [['x'.repeat(30), 'y'.repeat(30)]], { maxWidth: 20 });
    for (const line of out.split('\n')) assert.ok(line.length <= 20, line);
  });
});

function job(over: Partial<ApiJob> = {}): ApiJob {
  return {
    id: 'job-1',
    type: 'csv-row',
    queue: 'csv-rows',
    state: 'failed',
    replays: 0,
    priority: 0,
    attempt: 3,
    maxAttempts: 3,
    timeoutMs: 60_000,
    payload: { id: '1' },
    attributes: {},
    result: null,
    error: { class: 'application', message: 'bad email', exitCode: 1, signal: null },
    createdAt: 1_700_000_000_000,
    runAt: 1_700_000_000_000,
    startedAt: 1_700_000_001_000,
    finishedAt: 1_700_000_003_500,
    batchId: 'batch-1',
    idempotencyKey: null,
    routeReason: null,
    data: null,
    cancelRequested: false,
    leaseOwner: null,
    leaseExpiresAt: null,
    ...over,
  };
}

describe('job renderers', () => {
  it('shows state, timings, payload and error of one job', () => {
    const out = renderJob(job(), 1_700_000_010_000);
    assert.match(out, /^id: +job-1$/m);
    assert.match(out, /^state: +failed$/m);
    assert.match(out, /^attempt: +3 of 3$/m);
    assert.match(out, /^ran: +2\.5s$/m);
    assert.match(out, /^batch: +batch-1$/m);
    assert.match(out, /^payload:\n {2}\{\n {4}"id": "1"\n {2}\}$/m);
    assert.match(out, /^error \(application, exit 1\):\n {2}bad email$/m);
  });
  it('shows a result when there is one', () => {
    const out = renderJob(job({ state: 'succeeded', error: null, result: { n: 1 } }), 0);
    assert.match(out, /^result:\n {2}\{\n {4}"n": 1\n {2}\}$/m);
    assert.doesNotMatch(out, /error/);
  });
  it('lists jobs in a table', () => {
    const out = renderJobs(
      [job(), job({ id: 'job-2', state: 'running', finishedAt: null })],
      1_700_000_005_000,
    );
    const lines = out.split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^ID +TYPE +STATE +ATTEMPT +PRIO +CREATED +RAN$/);
    assert.match(lines[2]!, /^job-1 +csv-row +failed +3\/3 +0 +5\.0s ago +2\.5s$/);
    assert.match(lines[3]!, /^job-2 .* running .* 4\.0s$/);
    assert.equal(renderJobs([], 0), '(no jobs)');
  });
});

describe('delayed jobs in the job renderers', () => {
  const now = 1_700_000_100_000;
  const delayed = job({
    id: 'job-d',
    state: 'queued',
    attempt: 0,
    error: null,
    startedAt: null,
    finishedAt: null,
    runAt: now + 12_000,
  });
  it('lists a queued job not yet due as delayed, with a DUE column', () => {
    const lines = renderJobs([delayed, job()], now).split('\n');
    assert.match(lines[0]!, /^ID +TYPE +STATE +DUE +ATTEMPT +PRIO +CREATED +RAN$/);
    assert.match(lines[2]!, /^job-d +csv-row +delayed +in 12s +0\/3 /);
    assert.match(lines[3]!, /^job-1 +csv-row +failed +- +3\/3 /);
  });
  it('a queued job already due is queued, and no DUE column', () => {
    const out = renderJobs([{ ...delayed, runAt: now - 1 }], now);
    assert.match(out, /^ID +TYPE +STATE +ATTEMPT/);
    assert.match(out, /^job-d +csv-row +queued +0\/3/m);
  });
  it('shows one delayed job as delayed with its due time', () => {
    const out = renderJob(delayed, now);
    assert.match(out, /^state: +delayed, due in 12s$/m);
    assert.match(out, new RegExp(`^run at: +${new Date(now + 12_000).toISOString()}$`, 'm'));
  });
});
