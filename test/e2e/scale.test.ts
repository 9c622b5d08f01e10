import { after, before, test } from 'node:test';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';
import { runScaleFlow, scaleConfig } from '../helpers/scale-flow.ts';

// The burst-scaling scenario on the embedded default (workers on an IPC channel); the flow and its
// assertions are in test/helpers/scale-flow.ts, shared with scale-network.test.ts.
let g: TestGaffer;

before(async () => {
  g = await startGaffer(scaleConfig());
});
after(() => g.close());

test('a 10,000-row upload bursts 0 → max, runs every row, then retires only idle workers', () =>
  runScaleFlow(g));
