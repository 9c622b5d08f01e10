import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { byType } from '../../src/executors/by-type.ts';
import type { Executor, StartRequest } from '../../src/executors/executor.ts';
import { spec } from '../fixtures/harness.ts';

/** An executor that records what it is asked, answering its capabilities from `answers`. */
function recording(name: string, answers: Partial<Executor> = {}) {
  const calls: string[] = [];
  const executor: Executor = {
    name,
    start: async (req: StartRequest) => void calls.push(`start ${req.workerId}`),
    kill: (id) => void calls.push(`kill ${id}`),
    close: async () => void calls.push('close'),
    stopped: (id, clean) => void calls.push(`stopped ${id} ${clean}`),
    ...answers,
  };
  return { executor, calls };
}

const req = (workerId: string, type: string): StartRequest => ({
  workerId,
  spec: spec({ type }),
});

describe('byType: executors routed by job type', () => {
  const local = recording('local-process', {
    canRun: (t) => t === 'light',
    room: () => 2,
    isLocal: (id) => id.startsWith('l'),
    localCapacity: () => ({ cpu: 2000, memory: 1 }),
  });
  const kube = recording('kubernetes', {
    canRun: (t) => t === 'heavy',
    room: () => 5,
    admit: (_t, wanted) => Math.min(wanted, 3),
    unboundWorkers: (t) => (t === 'heavy' ? ['remote-pod-1'] : []),
    replacesWorkers: () => true,
    workerIdFor: (id) => (id === 'pod-1' ? 'k-1' : id),
  });
  const kinds: Record<string, string> = { light: 'local', heavy: 'kubernetes', gone: 'nomad' };
  const e = byType(
    new Map([
      ['local', local.executor],
      ['kubernetes', kube.executor],
    ]),
    (type) => kinds[type] ?? 'local',
  );

  test("each type's capabilities are its executor's; a type whose executor is absent runs nowhere", () => {
    const table: [string, boolean, number | null, number, string[], boolean][] = [
      // type, canRun, room, admit(10), unboundWorkers, replacesWorkers
      ['light', true, 2, 10, [], false],
      ['heavy', true, 5, 3, ['remote-pod-1'], true],
      ['gone', false, null, 0, [], false],
    ];
    const was = {} as never;
    for (const [type, canRun, room, admit, unbound, replaces] of table) {
      assert.deepEqual(
        [
          e.canRun!(type),
          e.room!(type),
          e.admit!(type, 10),
          e.unboundWorkers!(type),
          e.replacesWorkers!(type, was, was),
        ],
        [canRun, room, admit, unbound, replaces],
        type,
      );
    }
  });

  test('a worker stays with the executor that started it; unknown workers are offered to each', async () => {
    await e.start(req('l-1', 'light'));
    await e.start(req('k-1', 'heavy'));
    await assert.rejects(e.start(req('x-1', 'gone')), /no executor runs type gone/);
    e.kill('l-1');
    e.kill('k-1');
    assert.equal(e.isLocal!('l-1'), true);
    assert.equal(e.isLocal!('k-1'), false, 'asked of its own executor');
    e.stopped!('k-1', true);
    e.stopped!('remote-pod-9', true);
    assert.deepEqual(local.calls, ['start l-1', 'kill l-1', 'stopped remote-pod-9 true']);
    assert.deepEqual(kube.calls, [
      'start k-1',
      'kill k-1',
      'stopped k-1 true',
      'stopped remote-pod-9 true',
    ]);
    assert.equal(e.workerIdFor!('pod-1'), 'k-1', 'the executor that knows the name');
    assert.equal(e.workerIdFor!('w-7'), 'w-7');
    assert.deepEqual(e.localCapacity!(), { cpu: 2000, memory: 1 });
    await e.close();
    assert.ok(local.calls.includes('close') && kube.calls.includes('close'));
  });
});
