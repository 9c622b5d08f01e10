import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Hold, KeyLimit } from '../../src/domain/flow.ts';
import type { Job } from '../../src/domain/job.ts';
import { KeyParking } from '../../src/jobs/key-parking.ts';

const LIMITS: Record<string, KeyLimit> = {
  keyed: { key: 'payload.tenant', running: 2 },
  windowed: { key: 'payload.tenant', running: 2, starts: 5, perSeconds: 1 },
};

function parking() {
  const published: string[][] = [];
  const p = new KeyParking({
    keyLimit: (type) => LIMITS[type],
    publish: (ids) => void published.push([...ids]),
  });
  return { p, published };
}

const job = (id: string, tenant: string, type = 'keyed') =>
  ({ id, type, payload: { tenant }, attributes: {} }) as unknown as Job;

test('parks: a running limit only; a key limit counting starts frees on a clock, not an end', () => {
  const { p } = parking();
  assert.equal(p.parks('keyed'), true);
  assert.equal(p.parks('windowed'), false);
  assert.equal(p.parks('plain'), false);
});

test("a job that leaves flight publishes its key's oldest parked job, one per end, no other key's", () => {
  const { p, published } = parking();
  const seen = p.ends('keyed');
  p.park(
    'keyed',
    [
      { id: 'b3', key: 'big' },
      { id: 'b4', key: 'big' },
      { id: 's3', key: 'small' },
    ],
    seen,
  );
  assert.equal(p.size, 3);
  p.ended(job('b1', 'big'));
  assert.deepEqual(published, [['b3']]);
  p.ended(job('b2', 'big'));
  p.ended(job('b5', 'big')); // nothing of the key parked any more: nothing published
  assert.deepEqual(published, [['b3'], ['b4']]);
  assert.equal(p.size, 1, "the small key's job waits for its own key");
});

test('a parked job that ends (a duplicate message ran it) is parked no more', () => {
  const { p, published } = parking();
  p.park('keyed', [{ id: 'b3', key: 'big' }], p.ends('keyed'));
  p.ended(job('b3', 'big'));
  assert.deepEqual(published, []);
  assert.equal(p.size, 0);
});

test('a job of the type that left flight during the claim: the held jobs are published at once', () => {
  const { p, published } = parking();
  const seen = p.ends('keyed');
  p.ended(job('b1', 'big')); // between the claim's read and its answer
  p.park('keyed', [{ id: 'b3', key: 'big' }], seen);
  assert.deepEqual(published, [['b3']]);
  assert.equal(p.size, 0, 'not parked: no later end might release it');
});

test('startable: of a parking type, the jobs of a full key are left out; flowHold asked once per key', async () => {
  const { p } = parking();
  const asked: string[] = [];
  const flowHold = async (j: Job): Promise<Hold | null> => {
    const tenant = (j.payload as { tenant: string }).tenant;
    asked.push(tenant);
    return tenant === 'big' ? { reason: 'key_limit', key: 'big' } : null;
  };
  const jobs = [job('b1', 'big'), job('s1', 'small'), job('b2', 'big'), job('s2', 'small')];
  const out = await p.startable('keyed', jobs, flowHold);
  assert.deepEqual(
    out.map((j) => j.id),
    ['s1', 's2'],
  );
  assert.deepEqual(asked, ['big', 'small']);
  const windowed = jobs.map((j) => ({ ...j, type: 'windowed' }));
  assert.equal((await p.startable('windowed', windowed, flowHold)).length, 4, 'not parked: all');
});
