import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dueAt,
  nextStep,
  type PacePlan,
  type PaceState,
  type PaceStep,
} from '../../src/load/pacing.ts';

const plan = (p: Partial<PacePlan>): PacePlan => ({
  rate: null,
  maxInFlight: 256,
  batch: 1,
  count: null,
  durationMs: null,
  ...p,
});
const at = (elapsedMs: number, started: number, inFlight = 0): PaceState => ({
  elapsedMs,
  started,
  inFlight,
});

describe('pacing', () => {
  it('job k is due k/rate seconds after the start', () => {
    assert.deepEqual(
      [0, 1, 2, 50].map((k) => dueAt(k, 50)),
      [0, 20, 40, 1000],
    );
  });

  const cases: [name: string, plan: PacePlan, state: PaceState, want: PaceStep][] = [
    [
      'the first job goes at once',
      plan({ rate: 50, durationMs: 2000 }),
      at(0, 0),
      { kind: 'send', jobs: 1 },
    ],
    [
      'the next one waits for its slot in time',
      plan({ rate: 50, durationMs: 2000 }),
      at(5, 1),
      { kind: 'sleep', ms: 15 },
    ],
    [
      'behind schedule: send now (catch up)',
      plan({ rate: 50, durationMs: 2000 }),
      at(100, 2),
      { kind: 'send', jobs: 1 },
    ],
    [
      'rate, but the in-flight limit is reached',
      plan({ rate: 50, maxInFlight: 2, durationMs: 2000 }),
      at(100, 2, 2),
      { kind: 'slot' },
    ],
    ['the time is up', plan({ rate: 50, durationMs: 2000 }), at(2000, 99), { kind: 'done' }],
    [
      'the next job would be due after the end',
      plan({ rate: 50, durationMs: 2000 }),
      at(1990, 100),
      { kind: 'done' },
    ],
    ['the count is reached', plan({ rate: 50, count: 10 }), at(10, 10), { kind: 'done' }],
    [
      'concurrency: send while under the limit',
      plan({ maxInFlight: 4, count: 100 }),
      at(0, 3, 3),
      { kind: 'send', jobs: 1 },
    ],
    [
      'concurrency: wait at the limit',
      plan({ maxInFlight: 4, count: 100 }),
      at(0, 4, 4),
      { kind: 'slot' },
    ],
    [
      'batches: a full batch',
      plan({ rate: 100, batch: 10, count: 95 }),
      at(0, 0),
      { kind: 'send', jobs: 10 },
    ],
    [
      'batches: the next batch is due 10 jobs later',
      plan({ rate: 100, batch: 10, count: 95 }),
      at(30, 10),
      { kind: 'sleep', ms: 70 },
    ],
    [
      'batches: the last one is cut to the count',
      plan({ rate: 100, batch: 10, count: 95 }),
      at(900, 90),
      { kind: 'send', jobs: 5 },
    ],
    [
      'time and count: whichever comes first (count)',
      plan({ rate: 1000, count: 3, durationMs: 60_000 }),
      at(3, 3),
      { kind: 'done' },
    ],
  ];
  for (const [name, p, state, want] of cases) {
    it(name, () => assert.deepEqual(nextStep(p, state), want));
  }

  it('a whole run on a virtual clock sends rate × duration jobs, on schedule', () => {
    const p = plan({ rate: 50, durationMs: 2000 });
    const sentAt: number[] = [];
    let now = 0;
    for (;;) {
      const step = nextStep(p, at(now, sentAt.length));
      if (step.kind === 'done') break;
      if (step.kind === 'sleep') now += step.ms;
      else if (step.kind === 'send') sentAt.push(now);
      else assert.fail('no request is ever in flight here');
    }
    assert.equal(sentAt.length, 100);
    assert.deepEqual(sentAt.slice(0, 3), [0, 20, 40]);
    assert.equal(sentAt.at(-1), 1980);
  });
});
