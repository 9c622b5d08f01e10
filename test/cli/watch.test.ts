import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderBatch } from '../../src/cli/commands/batch.ts';
import { renderDecisions } from '../../src/cli/commands/decisions.ts';
import { renderQueues } from '../../src/cli/commands/queues.ts';
import {
  frameToAnsi,
  nextFilter,
  renderTop,
  renderWatch,
  throughputOf,
  type WatchData,
} from '../../src/cli/commands/top.ts';
import type { QueueStatus, ScalingDecision, WorkerInfo } from '../../src/client/index.ts';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

function queue(over: Partial<QueueStatus> = {}): QueueStatus {
  return {
    type: 'csv-row',
    queue: 'csv-rows',
    mode: 'pool',
    ready: 120,
    delayed: 0,
    inFlight: 8,
    backlog: 128,
    byState: { queued: 120, running: 8 },
    oldestReadyAt: NOW - 5000,
    workers: { starting: 1, idle: 0, busy: 2, draining: 0 },
    desired: 5,
    min: 0,
    max: 5,
    ...over,
  };
}

function worker(i: number, over: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    id: `w-${i}`,
    type: 'csv-row',
    mode: 'pool',
    state: 'busy',
    active: 4,
    concurrency: 4,
    startedAt: NOW - 60_000,
    idleSince: null,
    pid: 1000 + i,
    ...over,
  };
}

function decision(i: number): ScalingDecision {
  return {
    type: 'csv-row',
    at: NOW - i * 1000,
    from: i,
    to: i + 1,
    retire: [],
    reason: `backlog 120 > threshold 40: burst +${i}`,
    inputs: { ready: 120 },
  };
}

function data(over: Partial<WatchData> = {}): WatchData {
  return {
    url: 'http://127.0.0.1:8080',
    now: NOW,
    intervalMs: 1000,
    queues: [
      queue(),
      queue({
        type: 'matrix-multiplication',
        ready: 0,
        inFlight: 0,
        workers: { starting: 0, idle: 1, busy: 0, draining: 0 },
        desired: 1,
        min: 1,
        max: 10,
      }),
    ],
    workers: [worker(1), worker(2), worker(3, { state: 'idle', active: 0, idleSince: NOW - 3000 })],
    decisions: [1, 2, 3, 4, 5, 6, 7].map(decision),
    ...over,
  };
}

describe('renderWatch', () => {
  it('shows queues, workers and the last five decisions', () => {
    const out = renderWatch(data(), 200);
    assert.match(out, /^gaffer {2}http:\/\/127\.0\.0\.1:8080 /);
    assert.match(out, /^QUEUES {2}\(120 ready, 8 in flight\)$/m);
    assert.match(out, /^csv-row +pool +120 +0 +8 +1 +0 +2 +0 +5 +0–5$/m);
    assert.match(out, /^matrix-multiplication +pool +0 +0 +0 +0 +1 +0 +0 +1 +1–10$/m);
    assert.match(out, /^WORKERS {2}\(3 live: 0 starting, 1 idle, 2 busy, 0 draining\)$/m);
    assert.match(out, /^w-3 +csv-row +pool +idle +0\/4 +1003 +1m 00s ago +3\.0s ago$/m);
    assert.match(out, /^LAST SCALING DECISIONS$/m);
    const decisionLines = out.split('\n').filter((l) => l.includes('burst +'));
    assert.equal(decisionLines.length, 5);
    assert.match(
      out,
      /^\d\d:\d\d:\d\d {2}csv-row {2}1 → 2\n {10}backlog 120 > threshold 40: burst \+1$/m,
    );
  });

  it('keeps every line within the width', () => {
    for (const width of [20, 40, 80]) {
      for (const line of renderWatch(data(), width).split('\n')) {
        assert.ok(line.length <= width, `${width}: ${line}`);
      }
    }
  });

  it('draws backlog bars scaled to the largest queue', () => {
    const out = renderWatch(data(), 200);
    const bar = out.split('\n').find((l) => l.startsWith('csv-row ') && l.includes('|'));
    assert.ok(bar);
    assert.match(bar, /\|#{19}=\|/);
  });

  it('lists at most 15 workers and says how many more', () => {
    const many = Array.from({ length: 20 }, (_, i) => worker(i));
    const out = renderWatch(data({ workers: many }), 200);
    assert.equal(out.split('\n').filter((l) => /^w-\d+ /.test(l)).length, 15);
    assert.match(out, /^… 5 more$/m);
  });

  it('shows an error with the last data, and empty states', () => {
    const out = renderWatch(
      data({
        error: 'cannot connect to http://x: ECONNREFUSED',
        queues: [],
        workers: [],
        decisions: [],
      }),
      200,
    );
    assert.match(out, /^!! cannot connect to http:\/\/x: ECONNREFUSED — showing the last data$/m);
    assert.match(out, /\(no job types configured\)/);
    assert.match(out, /\(no workers\)/);
    assert.match(out, /\(no scaling decisions yet\)/);
  });
});

describe('renderTop (gaffer top)', () => {
  it('shows throughput and the oldest waiting job per type', () => {
    const throughput = {
      'csv-row': { succeeded: 42, unsuccessful: 1.5 },
      'matrix-multiplication': { succeeded: 0, unsuccessful: 0 },
    };
    const out = renderTop(data({ throughput }), 200);
    assert.match(out, /^THROUGHPUT {2}\(jobs ended per minute; oldest waiting\)$/m);
    assert.match(out, /^csv-row +42\.0 ok\/min +1\.5 failed\/min {2}oldest waiting 5\.0s$/m);
    assert.match(
      out,
      /^matrix-multiplication +0\.0 ok\/min +0\.0 failed\/min {2}oldest waiting 5\.0s$/m,
    );
    assert.match(out, /q quits, t type: all\)$/m);
  });

  it('shows … until two reads give a rate', () => {
    const out = renderTop(data({ throughput: null }), 200);
    assert.match(out, /^csv-row +… ok\/min +… failed\/min/m);
  });

  it('the type filter keeps only that type everywhere', () => {
    const out = renderTop(data({ filter: 'matrix-multiplication' }), 200);
    assert.match(out, /t type: matrix-multiplication\)$/m);
    assert.doesNotMatch(out, /^csv-row /m, 'no csv-row queue, bar or throughput line');
    assert.match(out, /\(no workers\)/, 'the workers are all csv-row');
    assert.match(out, /\(no scaling decisions yet\)/);
  });

  it('computes throughput from two reads, never negative', () => {
    const before = data({ now: NOW, queues: [queue({ byState: { succeeded: 10, failed: 5 } })] });
    const after = data({
      now: NOW + 30_000,
      queues: [queue({ byState: { succeeded: 40, failed: 6, dead_lettered: 2 } })],
    });
    assert.deepEqual(throughputOf(before, after), {
      'csv-row': { succeeded: 60, unsuccessful: 6 },
    });
    const purged = data({ now: NOW + 60_000, queues: [queue({ byState: { succeeded: 1 } })] });
    assert.deepEqual(throughputOf(after, purged), { 'csv-row': { succeeded: 0, unsuccessful: 0 } });
  });

  it('t cycles: every type, then each in turn', () => {
    const types = ['a', 'b'];
    let f: string | null = null;
    const cycle: (string | null)[] = [];
    for (let i = 0; i < 3; i++) cycle.push((f = nextFilter(f, types)));
    assert.deepEqual(cycle, ['a', 'b', null]);
    assert.equal(nextFilter('gone', types), null);
    assert.equal(nextFilter(null, []), null);
  });

  it('redraws in place: home, each line cleared to its end, the rest below cleared', () => {
    const ansi = frameToAnsi('one\ntwo\nthree', 3);
    assert.equal(ansi, '\x1b[Hone\x1b[K\ntwo\x1b[K\x1b[J', 'cut to the rows, minus one');
    assert.ok(!ansi.includes('\x1b[2J'), 'the screen is never blanked (no flicker)');
  });
});

describe('other renderers', () => {
  it('renders the queues table header', () => {
    const head = renderQueues([queue()]).split('\n')[0];
    assert.match(
      head!,
      /^TYPE +MODE +READY +DELAYED +IN FLIGHT +START +IDLE +BUSY +DRAIN +DESIRED +MIN–MAX$/,
    );
  });
  it('renders decisions with retired workers', () => {
    const out = renderDecisions([
      { ...decision(1), from: 3, to: 1, retire: ['w-1', 'w-2'], reason: 'idle 30s' },
    ]);
    assert.match(out, /csv-row {2}3 → 1 {2}retire 2\n {10}idle 30s$/);
  });
  it('wraps long reasons instead of cutting them', () => {
    const reason = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const out = renderDecisions([{ ...decision(1), reason }], 40);
    const lines = out.split('\n');
    assert.ok(lines.length > 3);
    for (const l of lines) assert.ok(l.length <= 40, l);
    assert.equal(
      lines
        .slice(1)
        .map((l) => l.trim())
        .join(' '),
      reason,
    );
  });
  it('renders batch progress', () => {
    const out = renderBatch({
      id: 'b1',
      createdAt: NOW,
      source: 'data.csv',
      type: 'csv-row',
      accepted: 10,
      rejected: 2,
      done: true,
      byState: { succeeded: 6, failed: 1, queued: 3 },
    });
    assert.match(out, /^ended: +7 of 10 \(70%\)$/m);
    assert.match(out, /^states: +succeeded 6, failed 1, queued 3$/m);
  });
});

describe('gaffer top on an 80×24 terminal with the example config’s 11 types', () => {
  const TYPES = [
    'csv-row',
    'matrix-multiplication',
    'actor',
    'spark',
    'ml',
    'batch',
    'pipeline',
    'ml-training',
    'ml-inference',
    'digital-twin',
    'adhoc',
  ];
  const idle = (type: string) =>
    queue({
      type,
      ready: 0,
      inFlight: 0,
      backlog: 0,
      byState: { succeeded: 3 },
      oldestReadyAt: null,
      workers: { starting: 0, idle: 0, busy: 0, draining: 0 },
      desired: 0,
    });
  /** Two busy types (csv-row with a backlog, matrix-multiplication running one job), nine idle. */
  const eleven = (over: Partial<WatchData> = {}) =>
    data({
      queues: TYPES.map((t, i) =>
        i === 0
          ? queue()
          : i === 1
            ? queue({
                type: t,
                ready: 0,
                inFlight: 1,
                oldestReadyAt: null,
                workers: { starting: 0, idle: 0, busy: 1, draining: 0 },
              })
            : idle(t),
      ),
      workers: [
        worker(1),
        worker(2),
        worker(3, { type: 'matrix-multiplication', active: 1, concurrency: 1 }),
      ],
      decisions: [1, 2, 3].map(decision),
      throughput: Object.fromEntries(
        TYPES.map((t, i) => [t, { succeeded: i === 0 ? 30 : 0, unsuccessful: 0 }]),
      ),
      ...over,
    });
  /** What the terminal shows of a frame: frameToAnsi's lines, without its escape sequences. */
  const visible = (frame: string, rows: number) =>
    frameToAnsi(frame, rows)
      .replaceAll(String.fromCharCode(27) + '[K', '')
      .replaceAll(String.fromCharCode(27) + '[J', '')
      .replace(String.fromCharCode(27) + '[H', '')
      .split('\n');

  it('folds the idle types into one line; workers and decisions stay on screen', () => {
    const shown = visible(renderTop(eleven(), 80, 24), 24);
    const text = shown.join('\n');
    for (const line of shown) assert.ok(line.length <= 80, line);
    assert.match(
      text,
      /^9 idle types: actor, spark, ml, batch, pipeline, ml-training, ml-inference, dig…$/m,
    );
    assert.match(text, /^csv-row +pool +120 /m, 'the busy types keep their queue rows');
    assert.match(text, /^matrix-multiplication +pool +0 +0 +1 /m);
    assert.doesNotMatch(text, /^spark +pool /m, 'no row for an idle type');
    assert.match(text, /^WORKERS {2}\(3 live/m);
    assert.match(text, /^w-1 +csv-row /m);
    assert.match(text, /^w-3 +matrix-multiplication /m);
    assert.match(text, /^LAST SCALING DECISIONS$/m);
    assert.match(text, /csv-row {2}1 → 2$/m);
  });

  it('with more workers than fit, lists what fits and says how many more, decisions still shown', () => {
    const many = Array.from({ length: 20 }, (_, i) => worker(i));
    const frame = renderTop(eleven({ workers: many }), 80, 24);
    assert.ok(frame.split('\n').length <= 23, frame);
    const text = visible(frame, 24).join('\n');
    assert.match(text, /^… \d+ more$/m);
    assert.match(text, /^LAST SCALING DECISIONS$/m);
    assert.match(text, /csv-row {2}1 → 2$/m);
  });

  it('a type with work in the last interval, or selected with t, is not folded', () => {
    const tp = eleven().throughput!;
    const out = renderTop(
      eleven({ throughput: { ...tp, spark: { succeeded: 2, unsuccessful: 0 } } }),
      200,
    );
    assert.match(out, /^spark +pool /m);
    assert.match(out, /^8 idle types: /m);
    const only = renderTop(eleven({ filter: 'ml' }), 200);
    assert.match(only, /^ml +pool +0 /m);
    assert.doesNotMatch(only, /idle types/);
  });

  it('without a height (a pipe, --once) every section is shown in full', () => {
    const many = Array.from({ length: 20 }, (_, i) => worker(i));
    const out = renderTop(eleven({ workers: many }), 200);
    assert.equal(out.split('\n').filter((l) => /^w-\d+ /.test(l)).length, 15);
    assert.equal(out.split('\n').filter((l) => l.includes('burst +')).length, 3);
  });
});
