import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RedeliveryCause } from '../../src/domain/events.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

// Redeliveries and crashes on a real gaffer: a worker killed mid-job (its job handed out again,
// cause worker_lost, the worker counted as crashed) and a lease that expired (gaffer's clock moved
// past it; the reconciler's sweep hands the job out again, cause lease_expired).

let g: TestGaffer;
before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    leases: { ttlMs: 3000, sweepMs: 1000 },
    jobTypes: {
      sleepy: {
        worker: { command: ['sleep', '30'] },
        retry: { maxAttempts: 5, backoffMs: 0 },
        scaling: { max: 1 },
      },
    },
  });
});
after(() => g.close());

async function scrape(name: string, labels: Record<string, string>): Promise<number> {
  const text = (await g.app.inject({ method: 'GET', url: '/metrics' })).body;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const redelivered = (id: string, cause: RedeliveryCause) =>
  g.orch.events.once('job:redelivered', (e) => e.job.id === id && e.cause === cause);

test('a worker killed mid-job: one redelivery (worker_lost) and one crash', async () => {
  const res = await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'sleepy' } });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().job.id as string;
  await g.orch.events.once('job:started', ({ job }) => job.id === id);
  await until(g, () => g.orch.gateway.workers('sleepy')[0]?.pid != null, ['worker:state']);
  const lost = redelivered(id, 'worker_lost');
  process.kill(g.orch.gateway.workers('sleepy')[0]!.pid!, 'SIGKILL');
  await lost;
  assert.equal(
    await scrape('gaffer_job_redeliveries_total', { type: 'sleepy', cause: 'worker_lost' }),
    1,
  );
  assert.equal(
    await scrape('gaffer_worker_exits_total', { type: 'sleepy', outcome: 'crashed' }),
    1,
  );

  // The retry runs on a new worker; then its lease expires on gaffer's clock.
  await g.orch.events.once('job:started', ({ job }) => job.id === id);
  const expired = redelivered(id, 'lease_expired');
  g.clock.advance(60_000);
  await g.orch.sweep();
  await expired;
  assert.equal(
    await scrape('gaffer_job_redeliveries_total', { type: 'sleepy', cause: 'lease_expired' }),
    1,
  );
  assert.equal(
    await scrape('gaffer_job_retries_total', { type: 'sleepy', class: 'infrastructure' }),
    2,
  );
});
