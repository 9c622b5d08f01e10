import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gafferDir, spawnGaffer, untilEvent } from '../helpers/process.ts';
import { mostAtOnce } from '../helpers/in-flight.ts';

/**
 * A per-key running limit of 2, through `gaffer up`: a tenant holding 1,000 jobs never has more
 * than 2 running, and another tenant's 10 jobs, submitted after them, all finish before the big
 * tenant's 50th. Asserted from the store: the running jobs per key sampled at every event, and
 * the jobs' recorded start and end times.
 */
const BIG = 1000;
const SMALL = 10;
const LIMIT = 2;

interface JobRow {
  id: string;
  state: string;
  payload: { tenant: string };
  startedAt: number | null;
  finishedAt: number | null;
}

async function jobs(url: string, state: string): Promise<JobRow[]> {
  return (await api<{ jobs: JobRow[] }>(url, `/v1/jobs?type=keyed&state=${state}&limit=1000`)).jobs;
}

test(`a per-key limit of ${LIMIT}: a key of ${BIG} jobs never runs more than ${LIMIT}, another key's ${SMALL} finish before its 50th`, async (t) => {
  const { args } = gafferDir('gaffer-keys-', [
    'autoscaler: { intervalMs: 100 }',
    'jobTypes:',
    '  keyed:',
    '    worker: { handler: test/e2e/fixtures/handlers.ts#row, env: { ROW_DELAY_MS: "30" } }',
    '    concurrency: 2',
    `    keyLimit: { key: payload.tenant, running: ${LIMIT} }`,
    '    scaling: { min: 0, max: 4 }',
  ]);
  const g = await spawnGaffer(args);
  try {
    const batch = (tenant: string, n: number) =>
      api(g.url, '/v1/jobs/batch', {
        type: 'keyed',
        jobs: Array.from({ length: n }, (_, i) => ({ payload: { tenant, id: String(i) } })),
      });
    await batch('big', BIG);
    await batch('small', SMALL);

    const mostRunning: Record<string, number> = { big: 0, small: 0 };
    let done: JobRow[] = [];
    await untilEvent(g.url, async () => {
      // The running jobs per key, read from the store at every event.
      const inFlight = [...(await jobs(g.url, 'starting')), ...(await jobs(g.url, 'running'))];
      for (const tenant of ['big', 'small']) {
        const n = inFlight.filter((j) => j.payload.tenant === tenant).length;
        mostRunning[tenant] = Math.max(mostRunning[tenant]!, n);
      }
      done = await jobs(g.url, 'succeeded');
      const count = (tenant: string) => done.filter((j) => j.payload.tenant === tenant).length;
      return count('small') === SMALL && count('big') >= 50;
    });

    t.diagnostic(`most running sampled: ${JSON.stringify(mostRunning)}`);
    assert.ok(mostRunning['big']! <= LIMIT, `big: ${mostRunning['big']} running at once`);
    assert.ok(mostRunning['small']! <= LIMIT, `small: ${mostRunning['small']} running at once`);
    assert.ok(mostAtOnce(done, 'big') <= LIMIT, 'by the recorded times, big never ran 3 at once');
    assert.ok(mostAtOnce(done, 'small') <= LIMIT, 'nor small');

    const finished = (tenant: string) =>
      done
        .filter((j) => j.payload.tenant === tenant)
        .map((j) => j.finishedAt!)
        .sort((x, y) => x - y);
    const small = finished('small');
    const big = finished('big');
    assert.equal(small.length, SMALL);
    assert.ok(
      small.at(-1)! < big[49]!,
      `the small key's last end ${small.at(-1)} before the big key's 50th ${big[49]}`,
    );
  } finally {
    g.child.kill('SIGTERM');
    await g.exited;
  }
});
