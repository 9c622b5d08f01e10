import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScalingDecision } from '../../src/domain/events.ts';
import { flowDemand } from '../../src/autoscaler/rules.ts';
import { api, gafferDir, spawnGaffer, untilEvent } from '../helpers/process.ts';

/**
 * A type limited to 10 starts a second, through `gaffer up`: 200 jobs take no less than 19 s of
 * starts (the store's `startedAt`, gaffer's clock at each claim), no second holds more than 10,
 * and the autoscaler keeps no more workers than the limit can feed (its recorded decisions).
 */
const JOBS = 200;
const STARTS = 10;
const CONCURRENCY = 2;

interface JobRow {
  id: string;
  state: string;
  attempt: number;
  startedAt: number | null;
}

test(`a type limited to ${STARTS} starts/s runs ${JOBS} jobs over no less than 19 s, its workers within the cap the limit feeds`, async (t) => {
  const { args } = gafferDir('gaffer-rate-', [
    'autoscaler: { intervalMs: 100 }',
    'jobTypes:',
    '  rated:',
    '    worker: { handler: test/e2e/fixtures/handlers.ts#row }',
    `    concurrency: ${CONCURRENCY}`,
    `    rateLimit: { starts: ${STARTS}, perSeconds: 1 }`,
    '    scaling: { min: 0, max: 4 }',
  ]);
  const g = await spawnGaffer(args);
  try {
    const jobs = Array.from({ length: JOBS }, (_, i) => ({ payload: { id: String(i) } }));
    await api(g.url, '/v1/jobs/batch', { type: 'rated', jobs });
    let done: JobRow[] = [];
    await untilEvent(g.url, async () => {
      done = (
        await api<{ jobs: JobRow[] }>(g.url, '/v1/jobs?type=rated&state=succeeded&limit=1000')
      ).jobs;
      return done.length === JOBS;
    });

    const starts = done.map((j) => j.startedAt!).sort((x, y) => x - y);
    const span = starts.at(-1)! - starts[0]!;
    t.diagnostic(`first to ${JOBS}th start: ${span} ms`);
    assert.ok(span >= (JOBS / STARTS - 1) * 1000, `${JOBS} starts over ${span} ms`);
    for (let i = 0; i + STARTS < starts.length; i++) {
      assert.ok(
        starts[i + STARTS]! - starts[i]! >= 1000,
        `${STARTS + 1} starts within a second: ${starts[i]}…${starts[i + STARTS]}`,
      );
    }
    assert.ok(
      done.every((j) => j.attempt === 1),
      'a job held back by the limit spent no attempt',
    );

    // Every scaling action recorded for the type: its workers never above the cap flowDemand
    // computes from what the decision saw.
    const { decisions } = await api<{ decisions: ScalingDecision[] }>(
      g.url,
      '/v1/scaling/decisions?type=rated&limit=1000',
    );
    assert.ok(decisions.length > 0, 'the autoscaler started the workers');
    for (const d of decisions) {
      const cap = d.inputs['rateLimitWorkers'];
      assert.ok(cap !== undefined, `the decision names the limit's cap: ${JSON.stringify(d)}`);
      if (d.to > d.from) assert.ok(d.to <= cap, `started over the cap ${cap}: ${d.reason}`);
      if (d.inputs['runP50Ms'] !== undefined) {
        const expected = flowDemand({
          flow: { paused: false, startsPerSecond: STARTS },
          ready: d.inputs['ready'] ?? 0,
          arrivalRate: undefined,
          inFlight: d.inputs['inFlight'] ?? 0,
          runMs: d.inputs['runP50Ms'],
          concurrency: CONCURRENCY,
        }).cap;
        assert.equal(cap, expected, `the cap flowDemand computes: ${JSON.stringify(d.inputs)}`);
      }
    }
    // Once a run was observed the cap is what the limit feeds, and the workers above it (idle
    // between the limit's starts) were retired to it while jobs were still held back.
    const retired = decisions.find((d) => d.to < d.from && (d.inputs['ready'] ?? 0) > 0);
    assert.ok(retired, 'the workers the limit could not feed retired with jobs still waiting');
    assert.ok(retired.to <= retired.inputs['rateLimitWorkers']!, retired.reason);
    const last = decisions[0]!;
    assert.ok(
      last.to <= last.inputs['rateLimitWorkers']!,
      `settled at ${last.to} workers, cap ${last.inputs['rateLimitWorkers']}: ${last.reason}`,
    );
    t.diagnostic(
      `decisions: ${decisions.map((d) => `${d.from}→${d.to} (cap ${d.inputs['rateLimitWorkers']})`).join(', ')}`,
    );
  } finally {
    g.child.kill('SIGTERM');
    await g.exited;
  }
});
