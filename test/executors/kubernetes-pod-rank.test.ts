import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import {
  compareRanks,
  deletionRank,
  DELETION_COST,
  unschedulable,
} from '../../src/executors/kubernetes/pod-rank.ts';

/** A pool pod: on a node or not, in a phase, Ready or not, with a deletion cost or none. */
function pod(o: { node?: boolean; phase?: string; ready?: boolean; cost?: string }): V1Pod {
  return {
    metadata: o.cost ? { annotations: { [DELETION_COST]: o.cost } } : {},
    spec: { containers: [], ...(o.node ? { nodeName: 'n1' } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False' }],
    },
  };
}

const marked = pod({ node: true, ready: true, cost: '-2147483648' });
// Each row: a pod beside the marked idle one, and whether the ReplicaSet would take it first.
const table: [string, V1Pod, boolean][] = [
  ['an unassigned pod (just created by a scale-out)', pod({ phase: 'Pending' }), true],
  ['a Pending pod on a node', pod({ node: true, phase: 'Pending' }), true],
  ['a Running pod not Ready yet', pod({ node: true }), true],
  ['a Running, Ready pod at the default cost', pod({ node: true, ready: true }), false],
  ['a Running, Ready pod as cheap as the marked one', marked, true],
];
for (const [name, other, first] of table) {
  test(`deletionRank: ${name} ${first ? 'goes before' : 'goes after'} the marked pod`, () => {
    assert.equal(compareRanks(deletionRank(other), deletionRank(marked)) <= 0, first);
  });
}

test('unschedulable: only an unassigned pod the scheduler marked Unschedulable', () => {
  const waiting = pod({ phase: 'Pending' });
  waiting.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }];
  assert.equal(unschedulable(waiting), true);
  assert.equal(unschedulable(pod({ phase: 'Pending' })), false);
  assert.equal(unschedulable(marked), false);
});
