import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Delivery } from '../../src/brokers/broker.ts';
import { createEmbeddedBroker } from '../../src/brokers/embedded/index.ts';
import { describeBrokerContract } from './broker.contract.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-embedded-broker-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Each call opens its own connection to the same file, like another process would.
describeBrokerContract('embedded (SQLite)', async () =>
  createEmbeddedBroker({ path: path.join(dir, 'broker.db') }),
);

test('messages held by a consumer that stopped renewing them return after the visibility timeout', async () => {
  const file = path.join(dir, 'visibility.db');
  const a = createEmbeddedBroker({ path: file, visibilityTimeoutMs: 300, pollMs: 20 });
  const b = createEmbeddedBroker({ path: file, visibilityTimeoutMs: 300, pollMs: 20 });
  await a.publish('v', [{ jobId: 'held-1' }, { jobId: 'held-2' }]);
  const taken: Delivery[] = [];
  const subA = await a.consume('v', { prefetch: 2 }, (d) => taken.push(d));
  assert.equal(taken.length, 2);
  await subA.cancel(); // stops renewing without releasing: like a consumer that died
  const again = await new Promise<Delivery[]>((resolve) => {
    const got: Delivery[] = [];
    void b.consume('v', { prefetch: 2 }, (d) => {
      got.push(d);
      if (got.length === 2) resolve(got);
    });
  });
  assert.deepEqual(again.map((d) => d.message.jobId).sort(), ['held-1', 'held-2']);
  assert.ok(again.every((d) => d.redelivered));
  for (const d of again) await d.ack();
  await a.close();
  await b.close();
});
