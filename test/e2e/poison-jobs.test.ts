import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Job } from '../../src/domain/job.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * Poison jobs (research/reliability.md, test 4): a job that kills its own process must not take
 * the innocent jobs beside it in a pool worker down with it, attempt after attempt. After its
 * first crash every job the worker held is a suspect and runs sandboxed, so the poison job is
 * dead-lettered after its attempts while its neighbours succeed — and it kills no worker twice.
 */
const MAX_ATTEMPTS = 3;
let g: TestGaffer;
/** Every pid a worker of the type had: a sandboxed job reports a pid that is none of these. */
const workerPids = new Set<number>();

before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      poison: {
        worker: { handler: 'test/e2e/fixtures/handlers.ts#poisonous' },
        concurrency: 2,
        retry: { maxAttempts: MAX_ATTEMPTS, backoffMs: 0 },
        scaling: { min: 0, max: 1 },
      },
    },
  });
  g.orch.events.on('worker:state', ({ worker }) => {
    if (worker.pid !== null) workerPids.add(worker.pid);
  });
});
after(() => g.close());

const ended = (job: Job) => job.state === 'succeeded' || job.state === 'dead_lettered';

test('poison jobs are dead-lettered after their attempts; their neighbours all succeed', async () => {
  // One commit, before any worker runs: the first claim (two slots, highest priority first) puts
  // the innocent `first` beside the poison job `p1`, which kills the worker while `first` runs.
  const { accepted } = await g.orch.service.submitMany([
    { type: 'poison', payload: { n: 'first' }, priority: 10 },
    { type: 'poison', payload: { poison: true }, priority: 9 },
    { type: 'poison', payload: { poison: true } },
    ...Array.from({ length: 6 }, (_, i) => ({ type: 'poison', payload: { n: i } })),
  ]);
  const ids = accepted.map((j) => j.id);
  const [first, p1, p2, ...rest] = ids;
  const poison = [p1!, p2!];
  const normal = [first!, ...rest];

  const jobs = async () => Promise.all(ids.map((id) => g.orch.service.get(id)));
  await until(g, async () => (await jobs()).every(ended));
  await g.orch.gateway.recorded();

  for (const id of normal) {
    const job = await g.orch.service.get(id);
    assert.equal(job.state, 'succeeded', `normal job ${id}: ${JSON.stringify(job.error)}`);
  }
  for (const id of poison) {
    const job = await g.orch.service.get(id);
    assert.equal(job.state, 'dead_lettered');
    assert.equal(job.attempt, MAX_ATTEMPTS, 'exactly its attempts');
    // Its last attempt died in its sandbox — or, sandboxed, with its worker, when the other
    // poison job's first attempt crashed that worker: either way SIGKILL, and still a suspect.
    assert.equal(job.error?.class, 'infrastructure');
    assert.equal(job.error?.workerLost, true);
    assert.equal(job.error?.signal, 'SIGKILL');
  }

  const victim = await g.orch.service.get(first!);
  assert.ok(victim.attempt >= 2, 'the first claim put an innocent job beside a poison one');
  const { pid } = victim.result as { pid: number };
  assert.ok(!workerPids.has(pid), 'after the crash it ran sandboxed, not in a worker');

  // Each poison job killed a worker at most once: its later attempts killed only their sandbox.
  const events = await g.orch.store.workerEvents({ type: 'poison', limit: 1000 });
  const crashes = events.filter((e) => e.event === 'crashed');
  assert.ok(crashes.length >= 1 && crashes.length <= poison.length, `${crashes.length} crashes`);
});
