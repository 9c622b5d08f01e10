import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { spawnWorker } from '../helpers/process.ts';

// Broker mode with a worker started apart: it knows gaffer's address, the worker token and the
// broker's address — no store. Jobs reach it through the broker; claims and outcomes go to gaffer.
const TOKEN = 'test-worker-token-0123456789';
let g: TestGaffer;
let url: string;

before(async () => {
  g = await startGaffer({
    server: { workerToken: TOKEN },
    broker: { kind: 'embedded' },
    jobTypes: {
      far: {
        worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
        concurrency: 4,
        scaling: { min: 0, max: 0 },
      },
    },
  });
  url = await g.app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => g.close());

test('a separately started broker-fed worker runs every job and drains cleanly', async () => {
  for (let i = 0; i < 40; i++) {
    await g.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'far', payload: { id: String(i) } },
    });
  }
  const broker = path.join(g.dataDir, 'broker.db');
  const w = spawnWorker(url, ['--type', 'far', '--token', TOKEN, '--broker', broker]);
  await until(g, async () => (await countByState(g, 'far'))['succeeded'] === 40, ['job:succeeded']);
  assert.ok(g.orch.gateway.retire(g.orch.gateway.workers('far')[0]!.id));
  assert.equal(await w.exited, 0, w.stderr());
});
