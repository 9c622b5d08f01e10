import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { logTrimMarker } from '../../src/store/job-store.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * Retention end to end: results capped when written, logs cut by the sweep, ended jobs deleted by
 * age while dead letters, queued jobs and recent ones stay. The clock is moved, never waited for.
 */
const DAY = 86_400_000;
const SWEEP_MS = 60_000;
let g: TestGaffer;
before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    retention: { sweepMs: SWEEP_MS, maxAgeDays: 1, logBytesPerJob: 1024, resultBytes: 64 },
    jobTypes: {
      // 100 lines of about 50 bytes: a 5 kB log, and a text result far over 64 bytes.
      loud: {
        worker: {
          command: ['sh', '-c', 'for i in $(seq 100); do echo "line $i of a long log"; done'],
        },
        scaling: { max: 1 },
      },
      small: { worker: { command: ['sh', '-c', 'echo \'{"n":1}\''] }, scaling: { max: 1 } },
      broken: {
        worker: { command: ['sh', '-c', 'exit 1'] },
        retry: { maxAttempts: 1 },
        scaling: { max: 1 },
      },
      held: { worker: { command: ['true'] }, scaling: { max: 0 } },
    },
  });
});
after(() => g.close());

const submit = async (type: string) =>
  (await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, payload: {} } })).json()
    .job.id as string;
const ended = (id: string, state: string) =>
  until(g, async () => (await g.orch.service.get(id)).state === state);
/** One reconciler pass with retention due: the clock moves past `retention.sweepMs` first. */
async function sweep(ms = SWEEP_MS): Promise<void> {
  g.clock.advance(ms);
  await g.orch.sweep();
}

test('results over the limit are stored as a marker; small ones as they are', async () => {
  const loud = await submit('loud');
  const small = await submit('small');
  await ended(loud, 'succeeded');
  await ended(small, 'succeeded');
  const result = (await g.orch.service.get(loud)).result as { truncated: boolean; bytes: number };
  assert.equal(result.truncated, true);
  assert.ok(result.bytes > 64);
  assert.deepEqual((await g.orch.service.get(small)).result, { n: 1 });
});

test('the sweep cuts logs to their newest bytes under a marker', async () => {
  const loud = await submit('loud');
  await ended(loud, 'succeeded');
  await until(
    g,
    async () => (await g.orch.store.logs(loud)).some((l) => l.data.includes('line 100')),
    ['job:log', 'job:succeeded'],
  );
  await sweep();
  const lines = await g.orch.store.logs(loud);
  assert.ok(lines[0]?.data.startsWith(logTrimMarker(1024)));
  const bytes = lines.reduce((sum, l) => sum + Buffer.byteLength(l.data), 0);
  assert.ok(bytes <= 1024, `${bytes} bytes kept`);
  assert.match(lines.at(-1)?.data ?? '', /line 100 /);
});

test('ended jobs older than maxAgeDays are deleted; dead letters, queued and recent ones stay', async () => {
  const old = await submit('small');
  const dead = await submit('broken');
  await ended(old, 'succeeded');
  await ended(dead, 'dead_lettered');
  const queued = await submit('held');

  await sweep();
  assert.ok(await g.orch.store.get(old), 'not a day old yet');

  await sweep(DAY + 1);
  const recent = await submit('small');
  await ended(recent, 'succeeded');
  await sweep();
  assert.equal(await g.orch.store.get(old), undefined);
  assert.equal((await g.orch.store.get(dead))?.state, 'dead_lettered');
  assert.equal((await g.orch.store.get(queued))?.state, 'queued');
  assert.equal((await g.orch.store.get(recent))?.state, 'succeeded');
  const res = await g.app.inject({ method: 'GET', url: `/v1/jobs/${old}` });
  assert.equal(res.statusCode, 404);
});
