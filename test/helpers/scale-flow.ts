import assert from 'node:assert/strict';
import { countByState, multipart, until, type TestGaffer } from './gaffer.ts';

/**
 * The burst-scaling scenario, shared by every transport, broker and store it runs on: a 10,000-row CSV
 * upload scales one type from 0 to max in bursts, every job succeeds, and after the idle window
 * the workers scale back to the minimum — and the recorded worker events show no worker was
 * stopped while it held a job.
 */
export const SCALE_ROWS = 10_000;
export const SCALE_TYPE = 'csv-row';

/** The config of the scenario; merge a transport, broker or store over it. */
export function scaleConfig(): Record<string, unknown> {
  return {
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      [SCALE_TYPE]: {
        queue: 'csv_rows',
        worker: { handler: 'test/e2e/fixtures/handlers.ts#row', env: { ROW_DELAY_MS: '1' } },
        concurrency: 4,
        // Bursts of 5 over 40 ready: the rate term (on by default, 30 s) would jump 0 → max at once.
        scaling: {
          min: 0,
          max: 10,
          threshold: 40,
          burst: 5,
          idleSeconds: 30,
          drainTargetSeconds: 0,
        },
        payloadSchema: { type: 'object', required: ['id', 'name'] },
      },
    },
  };
}

export interface ScaleFlowOptions {
  rows?: number;
  /** Runs alongside the jobs, from the upload on (e.g. inspecting live workers). */
  whileRunning?: (g: TestGaffer) => Promise<void>;
}

/** Runs the scenario on a started gaffer and asserts every step. */
export async function runScaleFlow(g: TestGaffer, options: ScaleFlowOptions = {}): Promise<void> {
  const rows = options.rows ?? SCALE_ROWS;
  await upload(g, rows);
  const watching = options.whileRunning?.(g);
  await until(g, async () => (await countByState(g, SCALE_TYPE))['succeeded'] === rows, [
    'job:succeeded',
  ]);
  await watching;
  await assertBursts(g);

  // Skip the idle window on gaffer's clock: idle workers are retired down to the minimum (0).
  g.clock.advance(31_000);
  g.orch.loop.poke();
  await until(g, () => g.orch.gateway.workers(SCALE_TYPE).length === 0, [
    'worker:stopped',
    'scaler:decision',
  ]);
  await assertOnlyIdleStopped(g);
}

async function upload(g: TestGaffer, rows: number): Promise<void> {
  const csv = [
    'id,name,amount',
    ...Array.from({ length: rows }, (_, i) => `${i},name-${i},${i % 97}`),
  ].join('\n');
  const res = await g.app.inject({
    method: 'POST',
    url: `/upload?type=${SCALE_TYPE}`,
    ...multipart('data.csv', csv),
  });
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(res.json().batch.accepted, rows);
}

async function assertBursts(g: TestGaffer): Promise<void> {
  const outs = (await g.orch.store.decisions({ type: SCALE_TYPE, limit: 1000 }))
    .reverse()
    .filter((d) => d.to > d.from);
  assert.ok(outs.length >= 2, 'scaled out in more than one step');
  assert.deepEqual([outs[0]!.from, outs[0]!.to], [0, 5], 'first burst starts 5 workers at once');
  assert.equal(Math.max(...outs.map((d) => d.to)), 10, 'reached max');
  assert.ok(
    outs.every((d) => d.to - d.from <= 5),
    'no step above the burst size',
  );
}

async function assertOnlyIdleStopped(g: TestGaffer): Promise<void> {
  await g.orch.gateway.recorded(); // worker events are written in the background
  const events = await g.orch.store.workerEvents({ type: SCALE_TYPE, limit: 10_000 });
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
}
