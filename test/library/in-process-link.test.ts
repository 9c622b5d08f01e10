import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkPair } from '../../src/executors/in-process/link.ts';
import type { GafferMessage, WorkerMessage } from '../../src/worker/protocol.ts';

/** The in-memory worker link keeps the IPC channel's contract (src/executors/in-process/link.ts). */

test('messages arrive in order, after the send returned, as JSON copies', async () => {
  const pair = linkPair();
  const got: WorkerMessage[] = [];
  pair.gaffer.onMessage((m) => got.push(m));
  const result = { at: new Date(0), n: 1, skip: () => 1 };
  pair.worker.send({ t: 'claim', max: 1 });
  pair.worker.send({
    t: 'done',
    id: 'j',
    token: 1,
    outcome: { status: 'succeeded', result },
  });
  assert.equal(got.length, 0, 'not delivered within send');
  await Promise.resolve();
  assert.deepEqual(got, [
    { t: 'claim', max: 1 },
    {
      t: 'done',
      id: 'j',
      token: 1,
      outcome: { status: 'succeeded', result: { at: '1970-01-01T00:00:00.000Z', n: 1 } },
    },
  ]);
  result.n = 2;
  assert.deepEqual(got[1], { ...got[1] }, 'a copy: the sender keeps its object');
  assert.notEqual((got[1] as { outcome: { result: unknown } }).outcome.result, result);
});

test('after close nothing is delivered either way, and close listeners run once', async () => {
  const pair = linkPair();
  const toWorker: GafferMessage[] = [];
  const toGaffer: WorkerMessage[] = [];
  let closes = 0;
  pair.worker.onMessage((m) => toWorker.push(m));
  pair.gaffer.onMessage((m) => toGaffer.push(m));
  pair.gaffer.onClose(() => closes++);
  pair.gaffer.send({ t: 'drain' }); // queued before the close: dropped with it
  pair.close();
  pair.close();
  pair.gaffer.send({ t: 'drain' });
  pair.worker.send({ t: 'claim', max: 1 });
  await Promise.resolve();
  assert.deepEqual([toWorker, toGaffer, closes], [[], [], 1]);
});
