import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Attempt } from '../../src/client/index.ts';
import { isTerminal, type Job } from '../../src/domain/job.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * A handler chooses its delays, against a real gaffer and real worker processes: a TypeScript
 * handler snoozes (`throw snooze(ms)`) or asks for its retry's delay (`RetryAfter`); a command does
 * both by exiting 75 with a `{"gaffer":{…}}` result. A snooze spends no attempt.
 */
const MARKERS = mkdtempSync(path.join(os.tmpdir(), 'gaffer-delays-'));

// Snoozes (exit 75 with a snoozeMs result) the first time it sees a job, then succeeds; the
// marker file named by the job's id remembers.
const SNOOZING_COMMAND = `m="${MARKERS}/cmd-$GAFFER_JOB_ID"
if [ ! -e "$m" ]; then touch "$m"; echo '{"gaffer":{"snoozeMs":300}}'; exit 75; fi
echo '"done"'`;

const TYPES = {
  snoozer: {
    worker: { handler: 'test/e2e/fixtures/delays.ts#snoozeOnce' },
    retry: { maxAttempts: 1 },
    scaling: { max: 1 },
  },
  patient: {
    worker: { handler: 'test/e2e/fixtures/delays.ts#retryAfterOnce' },
    retry: { maxAttempts: 2, backoffMs: 3_600_000 },
    scaling: { max: 1 },
  },
  shell: {
    worker: { command: ['sh', '-c', SNOOZING_COMMAND] },
    retry: { maxAttempts: 1 },
    scaling: { max: 1 },
  },
  'shell-retry': {
    worker: {
      command: [
        'sh',
        '-c',
        'if [ "$GAFFER_ATTEMPT" = 1 ]; then echo \'{"gaffer":{"retryAfterMs":200}}\'; exit 75; fi; echo ok',
      ],
    },
    retry: { maxAttempts: 2, backoffMs: 3_600_000 },
    scaling: { max: 1 },
  },
};

let g: TestGaffer;
before(async () => {
  g = await startGaffer({ autoscaler: { intervalMs: 100 }, jobTypes: TYPES });
});
after(() => g.close());

async function runToEnd(
  type: string,
  payload: unknown,
): Promise<{ job: Job; attempts: Attempt[] }> {
  const { job } = await g.orch.service.submit({ type, payload });
  await until(g, async () => isTerminal((await g.orch.service.get(job.id)).state));
  const res = await g.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/attempts` });
  assert.equal(res.statusCode, 200, res.body);
  return { job: await g.orch.service.get(job.id), attempts: res.json().attempts as Attempt[] };
}

/** The second attempt started no sooner than `delayMs` after the first ended (gaffer's clock). */
function waited(attempts: Attempt[], delayMs: number): void {
  const [first, second] = attempts;
  assert.ok(first?.finishedAt && second?.startedAt, JSON.stringify(attempts));
  assert.ok(second.startedAt >= first.finishedAt + delayMs, JSON.stringify(attempts));
}

describe('handler-chosen delays', () => {
  it('a TypeScript handler snoozes: it runs again after the delay, on the same attempt', async () => {
    const { job, attempts } = await runToEnd('snoozer', { dir: MARKERS, snoozeMs: 300 });
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(job.result, { attempt: 1 }, 'a job of one attempt ran twice');
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.outcome]),
      [
        [1, 'snoozed'],
        [1, 'succeeded'],
      ],
    );
    waited(attempts, 300);
  });

  it("a TypeScript handler's RetryAfter: the next attempt after its delay, not the backoff", async () => {
    const { job, attempts } = await runToEnd('patient', { retryAfterMs: 200 });
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.outcome, a.error?.retryAfterMs ?? null]),
      [
        [1, 'failed', 200],
        [2, 'succeeded', null],
      ],
    );
    waited(attempts, 200);
  });

  it('a command snoozes by exit 75 and a snoozeMs result: the attempt is not spent', async () => {
    const { job, attempts } = await runToEnd('shell', null);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.outcome]),
      [
        [1, 'snoozed'],
        [1, 'succeeded'],
      ],
    );
    waited(attempts, 300);
  });

  it('a command chooses its retry delay by exit 75 and a retryAfterMs result', async () => {
    const { job, attempts } = await runToEnd('shell-retry', null);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.outcome, a.error?.exitCode ?? null]),
      [
        [1, 'failed', 75],
        [2, 'succeeded', null],
      ],
    );
    waited(attempts, 200);
  });
});
