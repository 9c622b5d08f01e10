import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGaffer, until, countByState, type TestGaffer } from '../helpers/gaffer.ts';
import { spawnWorker } from '../helpers/process.ts';

// A worker started apart from gaffer, knowing only gaffer's address and the worker token: no
// store path, no config file. gaffer itself starts no worker for this type (max 0).
const TOKEN = 'test-worker-token-0123456789';
let g: TestGaffer;
let url: string;

before(async () => {
  g = await startGaffer({
    server: { workerToken: TOKEN },
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

const startWorker = (token: string) => spawnWorker(url, ['--type', 'far', '--token', token]);

test('a remote worker runs the type’s jobs; retiring it drains it and it exits 0', async () => {
  for (let i = 0; i < 40; i++) {
    await g.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'far', payload: { id: String(i) } },
    });
  }
  const w = startWorker(TOKEN);
  await until(g, async () => (await countByState(g, 'far'))['succeeded'] === 40, ['job:succeeded']);
  const remote = g.orch.gateway.workers('far')[0]!;
  assert.ok(remote.id.startsWith('remote-'), 'it registered as a remote worker');
  assert.equal(remote.concurrency, 4);
  assert.ok(g.orch.gateway.retire(remote.id));
  assert.equal(await w.exited, 0);
  const events = await g.orch.store.workerEvents({ type: 'far', limit: 10 });
  assert.ok(events.some((e) => e.event === 'stopped' && e.active === 0));
});

test('a wrong token is refused and the worker exits non-zero', async () => {
  const w = startWorker('not-the-token-at-all');
  assert.notEqual(await w.exited, 0);
  assert.match(w.stderr(), /GAFFER_UNAUTHORIZED/);
  assert.equal(g.orch.gateway.workers('far').length, 0);
});
