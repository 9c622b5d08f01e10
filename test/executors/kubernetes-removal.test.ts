import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { CHEAPEST, DELETION_COST } from '../../src/executors/kubernetes/pod-rank.ts';
import {
  RECHECK_MS,
  removalStep,
  SETTLE_MS,
  startRemoval,
  type RemovalState,
  type RemovalStep,
} from '../../src/executors/kubernetes/removal.ts';

/** A pool pod of one Deployment, as the informer shows it. */
function pod(
  name: string,
  o: {
    ready?: boolean;
    phase?: string;
    node?: boolean;
    cost?: string;
    unschedulable?: boolean;
    deleting?: boolean;
  } = {},
): V1Pod {
  const ready = o.ready ?? true;
  return {
    metadata: {
      name,
      annotations: o.cost ? { [DELETION_COST]: o.cost } : {},
      ...(o.deleting ? { deletionTimestamp: new Date(0) } : {}),
    },
    spec: { containers: [], ...((o.node ?? true) ? { nodeName: 'n1' } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        { type: 'Ready', status: ready ? 'True' : 'False' },
        ...(o.unschedulable
          ? [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }]
          : []),
      ],
    },
  };
}

const NOW = 1_700_000_000_000;
const chosen = pod('idle', { cost: CHEAPEST });
const busy = pod('busy');
const justCreated = pod('new', { phase: 'Pending', node: false, ready: false });
const noNode = pod('stuck', { phase: 'Pending', node: false, ready: false, unschedulable: true });
const settling = startRemoval(NOW);
const refused: RemovalState = { phase: 'settling', deadline: NOW + SETTLE_MS, refused: true };
const late = NOW + SETTLE_MS + 1;

/** A settled, lowered removal: waiting for the ReplicaSet to delete the chosen pod. */
const deleting: RemovalState = { phase: 'deleting', deadline: NOW + SETTLE_MS, live: 1 };
const shrinking: RemovalState = { phase: 'shrinking', deadline: NOW + SETTLE_MS, live: 2 };

interface Row {
  why: string;
  pods: V1Pod[];
  state?: RemovalState;
  removing?: string[];
  now?: number;
  want: RemovalStep;
}

const rows: Row[] = [
  // Settling: lower only when the ReplicaSet's ranking puts the chosen pod first.
  {
    why: 'it ranks first among Ready pods: lower from the live count, then await its deletion',
    pods: [chosen, busy],
    want: {
      reason: 'ranked_first',
      action: {
        do: 'lower',
        from: 2,
        to: 1,
        lowered: { phase: 'deleting', deadline: NOW + SETTLE_MS, live: 1 },
        refused,
      },
    },
  },
  {
    why: 'a pod just created by a scale-out ranks before it: wait',
    pods: [chosen, busy, justCreated],
    want: { reason: 'unsettled', action: { do: 'wait', until: NOW + RECHECK_MS, next: settling } },
  },
  {
    why: 'a Ready pod not yet Ready ranks before it: wait',
    pods: [chosen, pod('warming', { ready: false })],
    want: { reason: 'unsettled', action: { do: 'wait', until: NOW + RECHECK_MS, next: settling } },
  },
  {
    why: 'pods being deleted or ended are not counted',
    pods: [
      chosen,
      busy,
      pod('going', { deleting: true, ready: false }),
      pod('done', { phase: 'Succeeded' }),
    ],
    want: {
      reason: 'ranked_first',
      action: { do: 'lower', from: 2, to: 1, lowered: deleting, refused },
    },
  },
  {
    why: 'only pods gaffer is removing rank with it: lower, then wait for the count to drop',
    pods: [chosen, busy, pod('other-idle', { cost: CHEAPEST })],
    removing: ['idle', 'other-idle'],
    want: {
      reason: 'level_with_removed',
      action: { do: 'lower', from: 3, to: 2, lowered: shrinking, refused },
    },
  },
  {
    why: "an earlier gaffer's mark on a pod not being removed ties with ours: cleared",
    pods: [chosen, busy, pod('old-mark', { cost: CHEAPEST })],
    want: { reason: 'stale_mark', action: { do: 'unmark', pods: ['old-mark'] } },
  },
  {
    why: 'every pod ranked before it found no node: that one is removed first',
    pods: [chosen, busy, noNode],
    want: { reason: 'unschedulable_first', action: { do: 'remove-first', pod: 'stuck' } },
  },
  {
    why: 'an unschedulable pod beside one merely Pending: wait for the Pending one',
    pods: [chosen, noNode, justCreated],
    want: { reason: 'unsettled', action: { do: 'wait', until: NOW + RECHECK_MS, next: settling } },
  },
  {
    why: 'the chosen pod is no longer live (deleted by someone else): done',
    pods: [pod('idle', { cost: CHEAPEST, deleting: true }), busy],
    want: { reason: 'gone', action: { do: 'done' } },
  },
  {
    why: 'not settled by the deadline: one replica fewer and the pod deleted by name',
    pods: [chosen, justCreated],
    now: late,
    want: { reason: 'settle_timeout', action: { do: 'delete', pod: 'idle', lowerFirst: true } },
  },
  {
    why: 'at the deadline exactly it still waits',
    pods: [chosen, justCreated],
    now: NOW + SETTLE_MS,
    want: {
      reason: 'unsettled',
      action: { do: 'wait', until: NOW + SETTLE_MS + RECHECK_MS, next: settling },
    },
  },
  // A lower refused (replicas differ from the live count, or a 409).
  {
    why: 'a refused lower waits for a change before trying again',
    pods: [chosen, busy],
    state: refused,
    want: { reason: 'refused', action: { do: 'wait', until: NOW + RECHECK_MS, next: settling } },
  },
  {
    why: 'a refused lower past the deadline: removed by name',
    pods: [chosen, busy],
    state: refused,
    now: late,
    want: { reason: 'settle_timeout', action: { do: 'delete', pod: 'idle', lowerFirst: true } },
  },
  // Lowered with pods level with it: wait for the live count to drop, then look again.
  {
    why: 'lowered among removals: waits while the count is above what was lowered to',
    pods: [chosen, busy, pod('other-idle', { cost: CHEAPEST })],
    state: shrinking,
    removing: ['idle', 'other-idle'],
    want: { reason: 'shrinking', action: { do: 'wait', until: NOW + RECHECK_MS, next: shrinking } },
  },
  {
    why: 'lowered among removals, the count dropped: settling again (ranked first now)',
    pods: [chosen, busy, pod('other-idle', { cost: CHEAPEST, deleting: true })],
    state: shrinking,
    removing: ['idle', 'other-idle'],
    want: {
      reason: 'ranked_first',
      action: { do: 'lower', from: 2, to: 1, lowered: deleting, refused },
    },
  },
  {
    why: 'lowered among removals, past the deadline: settling again at once',
    pods: [chosen, busy, justCreated],
    state: shrinking,
    now: late,
    want: { reason: 'settle_timeout', action: { do: 'delete', pod: 'idle', lowerFirst: true } },
  },
  // Lowered with the chosen pod first: the ReplicaSet should delete it.
  {
    why: 'lowered: waits for the ReplicaSet to delete it',
    pods: [chosen, busy],
    state: deleting,
    want: {
      reason: 'awaiting_deletion',
      action: { do: 'wait', until: NOW + RECHECK_MS, next: deleting },
    },
  },
  {
    why: 'lowered: the ReplicaSet deleted it',
    pods: [pod('idle', { cost: CHEAPEST, deleting: true }), busy],
    state: deleting,
    want: { reason: 'gone', action: { do: 'done' } },
  },
  {
    why: 'lowered: the ReplicaSet took another pod: this one deleted by name, no lower',
    pods: [chosen, pod('busy', { deleting: true })],
    state: deleting,
    want: { reason: 'another_taken', action: { do: 'delete', pod: 'idle', lowerFirst: false } },
  },
  {
    why: 'lowered: the ReplicaSet did not act in time: deleted by name, no lower',
    pods: [chosen, busy],
    state: deleting,
    now: late,
    want: { reason: 'deletion_timeout', action: { do: 'delete', pod: 'idle', lowerFirst: false } },
  },
];

for (const row of rows) {
  test(`removalStep: ${row.why}`, () => {
    const step = removalStep({
      pod: 'idle',
      pods: row.pods,
      removing: new Set(row.removing ?? ['idle']),
      state: row.state ?? settling,
      now: row.now ?? NOW,
    });
    assert.deepEqual(step, row.want);
  });
}

test('removalStep: a whole removal, performed step by step, lowers once and deletes nothing by name', () => {
  // The Deployment: the chosen idle pod, a busy one, and a scale-out's pod that settles later.
  let pods = [chosen, busy, justCreated];
  let replicas = 3;
  let state = startRemoval(NOW);
  let now = NOW;
  const done: string[] = [];
  for (let i = 0; i < 20; i++) {
    const { action, reason } = removalStep({
      pod: 'idle',
      pods,
      removing: new Set(['idle']),
      state,
      now,
    });
    done.push(reason);
    if (action.do === 'done') break;
    if (action.do === 'wait') {
      now = action.until;
      state = action.next;
      // The new pod becomes Ready after the first wait; the ReplicaSet acts after a lower.
      pods = pods.map((p) => (p === justCreated ? pod('new') : p));
      if (replicas < pods.filter((p) => !p.metadata?.deletionTimestamp).length) {
        pods = pods.map((p) => (p === chosen ? pod('idle', { deleting: true }) : p));
      }
    } else if (action.do === 'lower') {
      assert.equal(action.from, replicas);
      replicas = action.to;
      state = action.lowered;
    } else {
      assert.fail(`unexpected ${action.do} (${reason})`);
    }
  }
  assert.deepEqual(done, ['unsettled', 'ranked_first', 'awaiting_deletion', 'gone']);
  assert.equal(replicas, 2);
});
