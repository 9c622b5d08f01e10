import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { countByState, multipart, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

// The default scaling policy on a real executor. A spike of 2,000 jobs of 0.2 s lands on a pool at
// its minimum: the rate rule sizes the pool from the backlog and jumps past `burst` straight to
// the count that drains it within the drain target, every job succeeds, and once the type has been idle
// the pool returns to its minimum — only idle workers drained, none crashed.
const TYPE = 'spike';
const ROWS = 2000;
let g: TestGaffer | undefined;
after(() => g?.close());

test('a spike of 2,000 jobs: past burst in one step, drained, back to the minimum', async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      [TYPE]: {
        worker: { handler: 'test/e2e/fixtures/handlers.ts#row', env: { ROW_DELAY_MS: '200' } },
        concurrency: 4,
        scaling: { min: 1, max: 8, threshold: 40, burst: 2, idleSeconds: 5 },
      },
    },
  });
  const gaffer = g;
  await until(gaffer, () => gaffer.orch.gateway.workers(TYPE).length === 1, ['worker:state']);
  const csv = ['id', ...Array.from({ length: ROWS }, (_, i) => String(i))].join('\n');
  const res = await gaffer.app.inject({
    method: 'POST',
    url: `/upload?type=${TYPE}`,
    ...multipart('spike.csv', csv),
  });
  assert.equal(res.statusCode, 201, res.body);
  await until(gaffer, async () => (await countByState(gaffer, TYPE))['succeeded'] === ROWS, [
    'job:succeeded',
  ]);

  const outs = (await gaffer.orch.store.decisions({ type: TYPE, limit: 1000 }))
    .reverse()
    .filter((d) => d.to > d.from && d.from >= 1);
  assert.ok(outs.length > 0, 'scaled out for the spike');
  const first = outs[0]!;
  assert.ok(first.to - first.from > 2, `one step past burst 2: ${first.reason}`);
  assert.match(outs[0]!.reason, /drain target/);

  // Skip the idle window on gaffer's clock: back to the minimum, one worker.
  gaffer.clock.advance(6_000);
  gaffer.orch.loop.poke();
  await until(gaffer, () => gaffer.orch.gateway.workers(TYPE).length === 1, [
    'worker:stopped',
    'scaler:decision',
  ]);
  await gaffer.orch.gateway.recorded();
  const events = await gaffer.orch.store.workerEvents({ type: TYPE, limit: 1000 });
  assert.deepEqual(
    events.filter((e) => e.event === 'crashed'),
    [],
  );
  const stopped = events.filter((e) => e.event === 'stopped');
  assert.equal(stopped.length, 7, 'the 7 workers above the minimum went');
  assert.ok(stopped.every((e) => e.active === 0));
});
