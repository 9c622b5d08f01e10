import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Reconciler } from '../../src/jobs/reconciler.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';
import { stderrLogger } from '../helpers/log.ts';

// gaffer held up (starved of CPU, a long GC) while a worker's heartbeat arrives and the sweep
// falls due: when the loop resumes, Node runs due timers before it reads sockets. The sweep must
// see the heartbeat first — a lease renewed in time is never judged expired with the renewal
// waiting unread (that would hand the job to a second worker while the first still runs it).
//
// The stall is built, not waited for: the heartbeat is written on a loopback socket (it sits in
// the kernel's buffer at once) and the test then holds the event loop past the sweep's interval,
// so both are ready when the loop resumes, in that order, on every run.

const TTL_MS = 7_200_000;
let g: TestGaffer;
before(async () => {
  g = await startGaffer({
    // No worker of gaffer's own: the test holds the lease and sends its heartbeats.
    jobTypes: { held: { worker: { command: ['true'] }, scaling: { min: 0, max: 0 } } },
    // gaffer's own sweep stays out of the way; the test runs its own.
    leases: { ttlMs: TTL_MS, sweepMs: TTL_MS / 2 },
  });
});
after(() => g.close());

/** Holds this thread, as a CPU-starved or GC-paused gaffer is held, for `ms`. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('a heartbeat that arrived during a stall is read before the sweep that falls due with it', async () => {
  const { job } = (
    await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'held' } })
  ).json();
  const [claimed] = await g.orch.service.claim('held', 'test-worker', 1, 'running');
  assert.equal(claimed?.id, job.id);
  const token = claimed!.leaseToken!;

  // The worker's connection: each line it sends renews its lease, as the gateway does.
  const renewed: boolean[] = [];
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<void>((resolve) =>
    server.once('connection', (socket) => {
      socket.on('data', () => {
        void g.orch.service.heartbeat(job.id, token).then((ok) => renewed.push(ok));
      });
      resolve();
    }),
  );
  const worker = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  // Both ends open before the stall: only the heartbeat itself is left for the loop to read.
  await Promise.all([accepted, new Promise((resolve) => worker.once('connect', resolve))]);

  let swept!: () => void;
  const sweepDone = new Promise<void>((resolve) => (swept = resolve));
  const reconciler = new Reconciler({
    service: g.orch.service,
    store: g.orch.store,
    gateway: { forget: () => {}, notify: () => {} },
    clock: g.clock,
    types: () => (swept(), []),
    log: stderrLogger(),
  });
  try {
    g.clock.advance(TTL_MS - 1_000); // the lease has 1 s left on gaffer's clock
    worker.write('heartbeat\n'); // sent in time…
    g.clock.advance(2_000); // …and gaffer, held up, wakes 2 s later: without it, expired
    reconciler.start(1);
    stall(50); // the sweep's interval falls due with the heartbeat unread
    await sweepDone;

    assert.deepEqual(renewed, [true], 'the heartbeat was applied, and before the sweep');
    const now = await g.orch.service.get(job.id);
    assert.equal(now.state, 'running', 'the job stays with its worker');
    assert.equal(now.leaseToken, token);
  } finally {
    reconciler.stop();
    worker.destroy();
    server.close();
  }
});
