import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LeaderLease } from '../../src/store/leader-lease.ts';

const T0 = 1_700_000_000_000;

/** Two clients of one lease store, as two gaffer replicas would have; `close` ends both. */
export interface LeaderLeasePair {
  a: LeaderLease;
  b: LeaderLease;
  close(): Promise<void>;
}

/**
 * The LeaderLease contract (src/store/leader-lease.ts) for one implementation. `makePair` must
 * give a pair that sees no leases yet (a fresh database, namespace, …).
 */
export function describeLeaderLeaseContract(
  name: string,
  makePair: () => Promise<LeaderLeasePair>,
): void {
  describe(`LeaderLease contract: ${name}`, () => {
    test('one holder at a time, renewal, takeover after expiry', async (t) => {
      const { a, b, close } = await makePair();
      t.after(close);
      const ttl = 10_000;

      assert.equal(await a.acquire('autoscaler', 'gaffer-a', ttl, T0), true, 'A takes it');
      assert.equal(await b.acquire('autoscaler', 'gaffer-b', ttl, T0 + 1), false, 'B refused');
      assert.equal(await a.acquire('autoscaler', 'gaffer-a', ttl, T0 + 5000), true, 'A renews');
      // The renewal moved the expiry to T0 + 15000: still held there, expired just after.
      assert.equal(await b.acquire('autoscaler', 'gaffer-b', ttl, T0 + 15_000), false);
      assert.equal(await b.acquire('other-lease', 'gaffer-b', ttl, T0), true, 'names differ');
      assert.equal(
        await b.acquire('autoscaler', 'gaffer-b', ttl, T0 + 15_001),
        true,
        'B takes over',
      );
      assert.equal(await a.acquire('autoscaler', 'gaffer-a', ttl, T0 + 15_002), false, 'A lost it');

      // A release by a former holder changes nothing; the holder's own release frees it.
      await a.release('autoscaler', 'gaffer-a');
      assert.equal(await a.acquire('autoscaler', 'gaffer-a', ttl, T0 + 15_003), false);
      await b.release('autoscaler', 'gaffer-b');
      assert.equal(await a.acquire('autoscaler', 'gaffer-a', ttl, T0 + 15_004), true);

      // Many contenders for a free lease at once: exactly one wins.
      const won = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b).acquire('race', `gaffer-${i}`, ttl, T0),
        ),
      );
      assert.equal(won.filter(Boolean).length, 1);
    });
  });
}
