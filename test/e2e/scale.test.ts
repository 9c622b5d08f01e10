import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { multipart, startGaffer, until, countByState, type TestGaffer } from '../helpers/gaffer.ts';

// Seed 000's scenario: a 10,000-row CSV upload scales one type from 0 to max in bursts, every job
// succeeds, and after the idle window the workers scale back to the minimum — and the recorded
// worker events show no worker was stopped while it held a job.
const ROWS = 10_000;
let g: TestGaffer;

before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      'csv-row': {
        queue: 'csv_rows',
        worker: { handler: 'test/e2e/fixtures/handlers.ts#row', env: { ROW_DELAY_MS: '1' } },
        concurrency: 4,
        scaling: { min: 0, max: 10, threshold: 40, burst: 5, idleSeconds: 30 },
        payloadSchema: { type: 'object', required: ['id', 'name'] },
      },
    },
  });
});
after(() => g.close());

test('a 10,000-row upload bursts 0 → max, runs every row, then retires only idle workers', async () => {
  const csv = [
    'id,name,amount',
    ...Array.from({ length: ROWS }, (_, i) => `${i},name-${i},${i % 97}`),
  ].join('\n');
  const res = await g.app.inject({
    method: 'POST',
    url: '/upload?type=csv-row',
    ...multipart('data.csv', csv),
  });
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(res.json().batch.accepted, ROWS);

  await until(g, async () => (await countByState(g, 'csv-row'))['succeeded'] === ROWS, [
    'job:succeeded',
  ]);

  const outs = (await g.orch.store.decisions({ type: 'csv-row', limit: 1000 }))
    .reverse()
    .filter((d) => d.to > d.from);
  assert.ok(outs.length >= 2, 'scaled out in more than one step');
  assert.deepEqual([outs[0]!.from, outs[0]!.to], [0, 5], 'first burst starts 5 workers at once');
  assert.equal(Math.max(...outs.map((d) => d.to)), 10, 'reached max');
  assert.ok(
    outs.every((d) => d.to - d.from <= 5),
    'no step above the burst size',
  );

  // Skip the idle window on gaffer's clock: idle workers are retired down to the minimum (0).
  g.clock.advance(31_000);
  g.orch.loop.poke();
  await until(g, () => g.orch.gateway.workers('csv-row').length === 0, [
    'worker:stopped',
    'scaler:decision',
  ]);

  const events = await g.orch.store.workerEvents({ type: 'csv-row', limit: 10_000 });
  assert.equal(events.filter((e) => e.event === 'started').length, 10);
  assert.deepEqual(
    events.filter((e) => e.event === 'crashed'),
    [],
    'no worker crashed',
  );
  const stopped = events.filter((e) => e.event === 'stopped');
  assert.equal(stopped.length, 10);
  assert.ok(
    stopped.every((e) => e.active === 0),
    'every stopped worker held no job',
  );
  assert.ok(
    events.filter((e) => e.event === 'draining').every((e) => e.active === 0),
    'only idle workers were drained',
  );
});
