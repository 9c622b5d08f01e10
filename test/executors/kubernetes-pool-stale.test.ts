import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { createStalePods, type StalePods } from '../../src/executors/kubernetes/pool-stale.ts';

// Which connected pool pods are drained after a restart (pool-stale.ts), with the pods informer's
// cache and the type's current revision as plain data. The control plane behind it is tested in
// test/k8s/pool-restart.test.ts.

const pod = (name: string, deployment: string): V1Pod => ({
  metadata: { name, annotations: { deployment } },
});

interface Case {
  name: string;
  /** The informer's cache before the steps. */
  cached: V1Pod[];
  /** The type's current Deployment (null: unknown). */
  now: string | null;
  steps: (s: StalePods, cache: Map<string, V1Pod>) => void;
  retired: string[];
}

const cases: Case[] = [
  {
    name: 'an old revision’s pod connects: its worker is drained',
    cached: [pod('p1', 'rev-1')],
    now: 'rev-2',
    steps: (s) => s.connected('p1'),
    retired: ['remote-p1'],
  },
  {
    name: 'a current revision’s pod connects: left alone',
    cached: [pod('p2', 'rev-2')],
    now: 'rev-2',
    steps: (s) => s.connected('p2'),
    retired: [],
  },
  {
    name: 'the current revision cannot be told: left alone',
    cached: [pod('p1', 'rev-1')],
    now: null,
    steps: (s) => s.connected('p1'),
    retired: [],
  },
  {
    name: 'connected before the informer shows its pod: drained when it does',
    cached: [],
    now: 'rev-2',
    steps: (s, cache) => {
      s.connected('p1');
      cache.set('p1', pod('p1', 'rev-1'));
      s.seen('p1');
    },
    retired: ['remote-p1'],
  },
  {
    name: 'its worker gone before the informer shows the pod: nothing to drain',
    cached: [],
    now: 'rev-2',
    steps: (s, cache) => {
      s.connected('p1');
      s.gone('p1');
      cache.set('p1', pod('p1', 'rev-1'));
      s.seen('p1');
    },
    retired: [],
  },
  {
    name: 'one drain per connection, however often the informer shows the pod',
    cached: [pod('p1', 'rev-1')],
    now: 'rev-2',
    steps: (s) => {
      s.connected('p1');
      s.seen('p1');
      s.seen('p1');
    },
    retired: ['remote-p1'],
  },
  {
    name: 'a pod never connected: the informer alone drains nothing',
    cached: [pod('p1', 'rev-1')],
    now: 'rev-2',
    steps: (s) => s.seen('p1'),
    retired: [],
  },
];

for (const c of cases) {
  test(c.name, async () => {
    const cache = new Map(c.cached.map((p) => [p.metadata!.name!, p]));
    const retired: string[] = [];
    const settled: Promise<unknown>[] = [];
    const stale = createStalePods({
      pod: (name) => cache.get(name),
      placeOf: (p) => ({ type: 't', deployment: p.metadata!.annotations!['deployment']! }),
      revisionNow: (type) => {
        assert.equal(type, 't');
        const answer = Promise.resolve(c.now);
        settled.push(answer);
        return answer;
      },
      retire: (name, workerId) => {
        assert.equal(workerId, `remote-${name}`);
        retired.push(workerId);
      },
    });
    c.steps(stale, cache);
    await Promise.all(settled);
    await new Promise((resolve) => setImmediate(resolve)); // the checks' continuations ran
    assert.deepEqual(retired, c.retired);
  });
}
