import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { spawnWorker } from '../helpers/process.ts';

// The network transport without a broker: gaffer starts each worker as `gaffer worker`, which
// connects back to the API under the id gaffer gave it (long-polled claims over the WebSocket).
const TOKEN = 'test-worker-token-0123456789';
const HANDLERS = 'test/e2e/fixtures/handlers.ts';
let g: TestGaffer;
let url: string;

before(async () => {
  g = await startGaffer({
    server: { workerToken: TOKEN },
    executor: { transport: 'network' },
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      // min 1: its worker is started before the API listens, and waits for gaffer's address.
      steady: {
        worker: { handler: `${HANDLERS}#row` },
        concurrency: 2,
        scaling: { min: 1, max: 1 },
      },
      stuck: {
        worker: { handler: `${HANDLERS}#stuckOnce` },
        retry: { maxAttempts: 3, backoffMs: 0 },
        scaling: { min: 0, max: 1 },
      },
      chatty: { mode: 'per-job', worker: { handler: `${HANDLERS}#chatty` }, scaling: { max: 2 } },
    },
  });
  url = g.url!;
});
after(() => g.close());

const submit = async (type: string): Promise<string> => {
  const res = await g.app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { type, payload: {} },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().job.id as string;
};
const stateOf = async (id: string) => (await g.orch.service.get(id)).state;

test('a worker gaffer starts connects back under its own id and runs jobs', async () => {
  await until(g, () => g.orch.gateway.workers('steady')[0]?.state === 'idle');
  const [w] = g.orch.gateway.workers('steady');
  assert.ok(w!.id.startsWith(`${g.orch.instance}-steady-`), w!.id);
  const argv = readFileSync(`/proc/${w!.pid}/cmdline`, 'utf8').split('\0');
  assert.equal(
    argv[argv.indexOf('--id') + 1],
    w!.id,
    'the connection is the process gaffer started',
  );
  const ids = await Promise.all(Array.from({ length: 10 }, () => submit('steady')));
  await until(g, async () => (await Promise.all(ids.map(stateOf))).every((s) => s === 'succeeded'));
});

test("a second connection under a connected worker's id is refused; the first keeps its place", async () => {
  await until(g, () => g.orch.gateway.workers('steady')[0]?.state === 'idle');
  const [before] = g.orch.gateway.workers('steady');
  const intruder = spawnWorker(url, ['--type', 'steady', '--token', TOKEN, '--id', before!.id]);
  assert.notEqual(await intruder.exited, 0);
  assert.match(intruder.stderr(), /GAFFER_WORKER_CONNECTED/);
  const [now] = g.orch.gateway.workers('steady');
  assert.deepEqual([now!.id, now!.pid], [before!.id, before!.pid]);
});

test('kill -9 of a busy worker: its socket close and its exit count once; the job is retried', async () => {
  const exits: { id: string; signal: string | null }[] = [];
  const gateway = g.orch.gateway;
  const exited = gateway.exited.bind(gateway);
  // Observes the gateway's input (both reports of one death), changing nothing.
  gateway.exited = (id, code, signal) => {
    exits.push({ id, signal });
    return exited(id, code, signal);
  };
  const stopped: string[] = [];
  const off = g.orch.events.on('worker:stopped', ({ worker }) => stopped.push(worker.id));
  try {
    const id = await submit('stuck');
    await until(g, () => gateway.workers('stuck')[0]?.state === 'busy');
    const [victim] = gateway.workers('stuck');
    process.kill(victim!.pid!, 'SIGKILL');
    await until(g, async () => (await stateOf(id)) === 'succeeded');
    // The socket's close and the process's exit may come in either order: wait for both reports.
    await until(g, () => exits.filter((e) => e.id === victim!.id).length === 2, [
      'worker:stopped',
      'worker:state',
      'scaler:decision',
      'job:succeeded',
    ]);
    assert.deepEqual(
      stopped.filter((w) => w === victim!.id),
      [victim!.id],
      'one worker:stopped for two reports',
    );
    await gateway.recorded();
    const events = await g.orch.store.workerEvents({ type: 'stuck', limit: 100 });
    const mine = events.filter(
      (e) => e.workerId === victim!.id && ['crashed', 'stopped'].includes(e.event),
    );
    assert.deepEqual(
      mine.map((e) => [e.event, e.active]),
      [['crashed', 1]],
    );
  } finally {
    off();
    gateway.exited = exited;
  }
});

test("a per-job worker over the network: its stdout is its job's log, and it exits after", async () => {
  const id = await submit('chatty');
  const logged = async () =>
    (await g.orch.store.logs(id)).some((l) => l.data.includes(`hello from ${id}`));
  await until(g, async () => (await logged()) && (await stateOf(id)) === 'succeeded', [
    'job:log',
    'job:succeeded',
  ]);
  await until(g, () => g.orch.gateway.workers('chatty').length === 0);
});
