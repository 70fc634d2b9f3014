import { describe, expect, it } from 'vitest';
import { type AllocationEntry, usageOf } from '../../functions/scheduler/allocation.js';
import { decide, type NodeState } from '../../functions/scheduler/decide.js';
import { allocatableOf } from '../../functions/scheduler/filters.js';
import { noNodesMessage, unschedulableMessage } from '../../functions/scheduler/message.js';
import { podRequest } from '../../functions/scheduler/requests.js';
import {
  balancedAllocation,
  leastAllocated,
  normalize,
  preferredAffinity,
  scoreNodes,
} from '../../functions/scheduler/scores.js';
import { node, pod } from './fixtures.js';

const entry = (cpuMilli: number, memoryBytes = 0, owner?: string): AllocationEntry => ({
  namespace: 'default',
  name: 'x',
  cpuMilli,
  memoryBytes,
  hostPorts: [],
  reservedAt: new Date().toISOString(),
  ...(owner ? { owner } : {}),
});

const state = (n: ReturnType<typeof node>, entries: AllocationEntry[] = []): NodeState => ({
  node: n,
  usage: usageOf(entries),
});

const Gi = 2 ** 30;

describe('the unschedulable message', () => {
  it('counts each reason over the nodes, sorted as upstream, then what preemption found', () => {
    const message = unschedulableMessage(3, [
      { reasons: ['Insufficient cpu'], resolvable: true },
      { reasons: ['node(s) had untolerated taint {key: value}'], resolvable: false },
      { reasons: ['Insufficient cpu'], resolvable: true },
    ]);
    expect(message).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 Insufficient cpu. ' +
        'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, ' +
        '2 No preemption victims found for incoming pod.',
    );
  });

  it('counts a node once per reason it gives', () => {
    expect(
      unschedulableMessage(2, [
        { reasons: ['Insufficient cpu', 'Insufficient memory'], resolvable: true },
        { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false },
      ]),
    ).toBe(
      "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector. " +
        'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    );
  });

  it('sorts counts as strings, as Go does', () => {
    const failures = [
      ...Array.from({ length: 10 }, () => ({ reasons: ['node(s) were unschedulable'], resolvable: false })),
      ...Array.from({ length: 2 }, () => ({ reasons: ['Insufficient cpu'], resolvable: true })),
    ];
    expect(unschedulableMessage(12, failures)).toMatch(
      /^0\/12 nodes are available: 10 node\(s\) were unschedulable, 2 Insufficient cpu\. /,
    );
  });

  it('says there are no nodes when there are none', () => {
    expect(unschedulableMessage(0, [])).toBe(noNodesMessage);
    expect(decide(pod('p'), podRequest(pod('p')), [])).toMatchObject({
      kind: 'unschedulable',
      message: noNodesMessage,
    });
  });
});

describe('scores', () => {
  it('least allocated favours free room, counting requests as upstream (non-zero defaults)', () => {
    const p = pod('p', [{ cpu: '1', memory: '1Gi' }]);
    const a = allocatableOf(node('n', { cpu: '4', memory: '4Gi' }));
    expect(leastAllocated(podRequest(p), usageOf([]), a)).toBe(75);
    expect(leastAllocated(podRequest(p), usageOf([entry(2000, 2 * Gi)]), a)).toBe(25);
    expect(leastAllocated(podRequest(pod('b')), usageOf([]), a)).toBe(
      Math.floor(
        (Math.floor(((4000 - 100) * 100) / 4000) + Math.floor(((4 * Gi - 200 * 2 ** 20) * 100) / (4 * Gi))) /
          2,
      ),
    );
  });

  it('balanced allocation favours equal CPU and memory use', () => {
    const a = allocatableOf(node('n', { cpu: '4', memory: '4Gi' }));
    expect(balancedAllocation(podRequest(pod('p', [{ cpu: '2', memory: '2Gi' }])), usageOf([]), a)).toBe(100);
    expect(balancedAllocation(podRequest(pod('p', [{ cpu: '4' }])), usageOf([]), a)).toBe(50);
  });

  it('normalises by the largest score, reversed for counts where fewer is better', () => {
    expect(normalize([0, 5, 10], false)).toEqual([0, 50, 100]);
    expect(normalize([0, 5, 10], true)).toEqual([100, 50, 0]);
    expect(normalize([0, 0], false)).toEqual([0, 0]);
    expect(normalize([0, 0], true)).toEqual([100, 100]);
  });

  it('adds the weights of the preferred affinity terms a node matches', () => {
    const p = pod('p', [{}], {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 10,
              preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
            },
            { weight: 5, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
          ],
        },
      },
    });
    expect(preferredAffinity(p, node('n', { labels: { zone: 'a', disk: 'ssd' } }))).toBe(15);
    expect(preferredAffinity(p, node('n', { labels: { zone: 'b' } }))).toBe(0);
  });

  it('spreads pods of one controller, prefers untainted and preferred nodes', () => {
    const owned = pod(
      'p',
      [{}],
      {},
      {
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-1', controller: true },
        ],
      },
    );
    const request = podRequest(owned);
    const [crowded, empty] = scoreNodes(owned, request, [
      {
        node: node('a'),
        usage: usageOf([entry(0, 0, 'rs-1'), entry(0, 0, 'rs-1')]),
        allocatable: allocatableOf(node('a')),
      },
      {
        node: node('b'),
        usage: usageOf([entry(0, 0, 'other'), entry(0, 0, 'other')]),
        allocatable: allocatableOf(node('b')),
      },
    ]);
    expect(empty).toBeGreaterThan(crowded as number);
    const soft = node('s', { spec: { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] } });
    const [tainted, clean] = scoreNodes(pod('q'), podRequest(pod('q')), [
      { node: soft, usage: usageOf([]), allocatable: allocatableOf(soft) },
      { node: node('c'), usage: usageOf([]), allocatable: allocatableOf(node('c')) },
    ]);
    expect(clean).toBeGreaterThan(tainted as number);
  });
});

describe('choosing a node', () => {
  it('takes the feasible node with the most room', () => {
    const p = pod('p', [{ cpu: '1' }]);
    const decision = decide(p, podRequest(p), [
      state(node('busy'), [entry(2500)]),
      state(node('idle')),
      state(node('small', { cpu: '500m' })),
    ]);
    expect(decision).toMatchObject({ kind: 'bind', node: 'idle' });
  });

  it('breaks ties at random', () => {
    const p = pod('p', [{ cpu: '1' }]);
    const states = [state(node('a')), state(node('b')), state(node('c'))];
    const picks = new Set(
      [0, 0.4, 0.99].map((r) => (decide(p, podRequest(p), states, () => r) as { node: string }).node),
    );
    expect(picks.size).toBeGreaterThan(1);
  });

  it('says why no node fits', () => {
    const p = pod('p', [{ cpu: '3' }]);
    const decision = decide(p, podRequest(p), [
      state(node('a', { cpu: '2' })),
      state(node('b', { cpu: '2' })),
      state(node('c', { spec: { taints: [{ key: 'key', value: 'value', effect: 'NoSchedule' }] } })),
    ]);
    expect(decision.kind).toBe('unschedulable');
    expect(decision.kind === 'unschedulable' && decision.message).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 Insufficient cpu. ' +
        'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, ' +
        '2 No preemption victims found for incoming pod.',
    );
  });

  it('never picks a node the pod does not fit, whatever the scores', () => {
    const p = pod('p', [{ cpu: '1' }], { nodeSelector: { pool: 'x' } });
    for (let i = 0; i < 20; i++) {
      const decision = decide(p, podRequest(p), [
        state(node('a', { labels: { pool: 'x' } }), [entry(3000)]),
        state(node('b')),
        state(node('c', { labels: { pool: 'x' }, spec: { unschedulable: true } })),
      ]);
      expect(decision).toMatchObject({ kind: 'bind', node: 'a' });
    }
  });
});
