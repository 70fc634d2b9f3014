import { describe, expect, it } from 'vitest';
import {
  emptySinceAnnotation,
  emptySinceChanges,
  type GroupState,
  isUnschedulable,
  podsToEvict,
  scaleDownAnnotation,
  scaleDownCandidate,
  scaleUp,
} from '../../functions/cloud/scaling.js';
import { nodeTemplate } from '../../functions/cloud/template.js';
import type { Node, Pod } from '../../shared/api/core.js';
import { pod, worker } from './fixtures.js';

const now = new Date('2026-11-22T11:00:00Z');
const template = {
  allocatable: { cpu: '1930m', memory: '7Gi', pods: '29' },
  labels: { 'kubernetes.io/arch': 'arm64' },
};

function group(desired: number, ids: string[], min = 1, max = 5): GroupState {
  return {
    min,
    max,
    desired,
    instances: ids.map((instanceId) => ({ instanceId, lifecycleState: 'InService' })),
  };
}

describe('which pods call for nodes', () => {
  it('counts pods the scheduler marked Unschedulable', () => {
    expect(isUnschedulable(pod('a', { unschedulable: true }))).toBe(true);
  });
  it('ignores pods not marked, being deleted, or already bound', () => {
    expect(isUnschedulable(pod('a'))).toBe(false);
    expect(isUnschedulable(pod('b', { unschedulable: true, deleting: true }))).toBe(false);
    expect(isUnschedulable(pod('c', { unschedulable: true, nodeName: 'n1' }))).toBe(false);
  });
});

/** `n` Ready workers of the group, each full (all its CPU and memory taken), as the scheduler found them. */
function full(n: number): { members: Node[]; pods: Pod[] } {
  const members = Array.from({ length: n }, (_, i) => worker(`w${i}`, `i-${i + 1}`));
  const pods = members.map((m) =>
    pod(`busy-${m.metadata.name}`, { cpu: '1930m', memory: '7Gi', nodeName: m.metadata.name }),
  );
  return { members, pods };
}

describe('scale-up', () => {
  const nodes = 2;
  it('adds as many nodes as the pods need, packed largest first', () => {
    // 1.5 + 1.5 + 0.4 + 0.4 CPU on nodes of 1.93: two nodes (each 1.5 + 0.4).
    const pending = ['1500m', '400m', '1500m', '400m'].map((cpu, i) =>
      pod(`p${i}`, { cpu, unschedulable: true }),
    );
    const decision = scaleUp({
      pending,
      group: group(2, ['i-1', 'i-2']),
      ...full(nodes),
      template,
      now,
    });
    expect(decision).toMatchObject({ desired: 4, wanted: 2, unfittable: [] });
  });
  it('packs by memory too', () => {
    const pending = [1, 2, 3].map((i) => pod(`m${i}`, { memory: '4Gi', unschedulable: true }));
    expect(scaleUp({ pending, group: group(1, ['i-1']), ...full(1), template, now }).desired).toBe(4);
  });
  it('stops at the group maximum', () => {
    const pending = Array.from({ length: 10 }, (_, i) => pod(`p${i}`, { cpu: '1', unschedulable: true }));
    const decision = scaleUp({
      pending,
      group: group(2, ['i-1', 'i-2'], 1, 5),
      ...full(2),
      template,
      now,
    });
    expect(decision.desired).toBe(5);
    expect(decision.wanted).toBe(10);
  });
  it('never lowers the desired capacity, even above the maximum', () => {
    const decision = scaleUp({ pending: [], group: group(7, [], 1, 5), ...full(0), template, now });
    expect(decision.desired).toBe(7);
  });
  it('counts launched instances not yet registered as room already coming', () => {
    const pending = [pod('p', { cpu: '1', unschedulable: true })];
    const decision = scaleUp({
      pending,
      group: group(3, ['i-1', 'i-2', 'i-3']),
      ...full(2),
      template,
      now,
    });
    expect(decision.desired).toBe(3);
  });
  it('does not scale for pods no new node could take', () => {
    const huge = pod('huge', { cpu: '4', unschedulable: true });
    const elsewhere = pod('amd', {
      cpu: '100m',
      unschedulable: true,
      nodeSelector: { 'kubernetes.io/arch': 'amd64' },
    });
    const decision = scaleUp({
      pending: [huge, elsewhere],
      group: group(1, ['i-1']),
      ...full(1),
      template,
      now,
    });
    expect(decision.desired).toBe(1);
    expect(decision.unfittable.map((p) => p.metadata.name)).toEqual(['huge', 'amd']);
  });
  it('places pods on a group node with room before adding one (the scheduler may not have retried yet)', () => {
    const joined = worker('joined', 'i-3');
    const { members, pods } = full(2);
    const pending = [pod('p', { cpu: '1', unschedulable: true })];
    const decision = scaleUp({
      pending,
      group: group(3, ['i-1', 'i-2', 'i-3']),
      members: [...members, joined],
      pods,
      template,
      now,
    });
    expect(decision).toMatchObject({ desired: 3, wanted: 0 });
  });
  it('counts a node not Ready yet as room coming, not as room there', () => {
    const starting = worker('starting', 'i-3', { notReady: true });
    const { members, pods } = full(2);
    const pending = ['1', '1'].map((cpu, i) => pod(`p${i}`, { cpu, unschedulable: true }));
    const decision = scaleUp({
      pending,
      group: group(3, ['i-1', 'i-2', 'i-3']),
      members: [...members, starting],
      pods,
      template,
      now,
    });
    // One pod on the instance coming up, one on a new node.
    expect(decision).toMatchObject({ desired: 4, wanted: 1 });
  });
  it('leaves room on new nodes for the DaemonSet pods every node runs', () => {
    const { members, pods } = full(1);
    const daemon = pod('logs-w0', { cpu: '500m', nodeName: 'w0', daemonSet: true });
    // 1.5 CPU fits a bare 1.93 CPU node but not beside a 0.5 CPU DaemonSet pod.
    const pending = [pod('p', { cpu: '1500m', unschedulable: true })];
    const decision = scaleUp({
      pending,
      group: group(1, ['i-1']),
      members,
      pods: [...pods, daemon],
      template,
      now,
    });
    expect(decision).toMatchObject({ desired: 1, wanted: 0 });
    expect(decision.unfittable.map((p) => p.metadata.name)).toEqual(['p']);
  });
  it('respects the pods-per-node limit', () => {
    const small = { allocatable: { cpu: '4', memory: '8Gi', pods: '2' } };
    const pending = Array.from({ length: 5 }, (_, i) => pod(`p${i}`, { cpu: '10m', unschedulable: true }));
    expect(scaleUp({ pending, group: group(0, [], 0), ...full(0), template: small, now }).desired).toBe(3);
  });
});

describe('empty-since stamps', () => {
  const nodes = [
    worker('busy', 'i-1', { annotations: { [emptySinceAnnotation]: '2026-11-22T10:00:00Z' } }),
    worker('daemons-only', 'i-2'),
    worker('still-empty', 'i-3', { annotations: { [emptySinceAnnotation]: '2026-11-22T10:30:00Z' } }),
    worker('finished-only', 'i-4'),
  ];
  const pods = [
    pod('web', { nodeName: 'busy', cpu: '100m' }),
    pod('logs', { nodeName: 'daemons-only', daemonSet: true }),
    pod('static', { nodeName: 'daemons-only', mirror: true }),
    pod('job', { nodeName: 'finished-only', phase: 'Succeeded' }),
  ];
  it('stamps nodes newly empty of all but DaemonSet, mirror and finished pods, and unstamps busy ones', () => {
    expect(emptySinceChanges(nodes, pods, '2026-11-22T11:00:00Z')).toEqual([
      { node: 'busy', emptySince: null },
      { node: 'daemons-only', emptySince: '2026-11-22T11:00:00Z' },
      { node: 'finished-only', emptySince: '2026-11-22T11:00:00Z' },
    ]);
  });
});

describe('scale-down', () => {
  const tenMinutes = 10 * 60_000;
  const stamped = (name: string, id: string, since: string) =>
    worker(name, id, { annotations: { [emptySinceAnnotation]: since } });
  const base = {
    pods: [pod('logs', { nodeName: 'a', daemonSet: true })],
    pendingPods: 0,
    scaleDownAfterMs: tenMinutes,
    now,
  };
  it('removes the node empty for longest, once empty long enough', () => {
    const nodes = [stamped('a', 'i-1', '2026-11-22T10:45:00Z'), stamped('b', 'i-2', '2026-11-22T10:40:00Z')];
    expect(scaleDownCandidate({ ...base, nodes, group: group(2, ['i-1', 'i-2']) })?.metadata.name).toBe('b');
  });
  it('waits until the node has been empty for scaleDownAfterMs', () => {
    const nodes = [stamped('a', 'i-1', '2026-11-22T10:50:01Z'), worker('b', 'i-2')];
    expect(scaleDownCandidate({ ...base, nodes, group: group(2, ['i-1', 'i-2']) })).toBeUndefined();
    const exactly = [stamped('a', 'i-1', '2026-11-22T10:50:00Z')];
    expect(
      scaleDownCandidate({ ...base, nodes: exactly, group: group(2, ['i-1', 'i-2']) })?.metadata.name,
    ).toBe('a');
  });
  it('never goes below the group minimum', () => {
    const nodes = [stamped('a', 'i-1', '2026-11-22T09:00:00Z')];
    expect(scaleDownCandidate({ ...base, nodes, group: group(1, ['i-1'], 1) })).toBeUndefined();
  });
  it('keeps nodes while pods wait for room', () => {
    const nodes = [stamped('a', 'i-1', '2026-11-22T09:00:00Z')];
    expect(
      scaleDownCandidate({ ...base, pendingPods: 1, nodes, group: group(2, ['i-1', 'i-2']) }),
    ).toBeUndefined();
  });
  it('ignores a stale stamp on a node that has a pod now', () => {
    const nodes = [stamped('a', 'i-1', '2026-11-22T09:00:00Z')];
    const pods = [pod('web', { nodeName: 'a', cpu: '100m' })];
    expect(scaleDownCandidate({ ...base, pods, nodes, group: group(2, ['i-1', 'i-2']) })).toBeUndefined();
  });
  it('only removes nodes of the group that are InService', () => {
    const nodes = [
      stamped('outsider', 'i-9', '2026-11-22T09:00:00Z'),
      stamped('leaving', 'i-1', '2026-11-22T09:00:00Z'),
    ];
    const g: GroupState = {
      min: 0,
      max: 5,
      desired: 2,
      instances: [{ instanceId: 'i-1', lifecycleState: 'Terminating' }],
    };
    expect(scaleDownCandidate({ ...base, nodes, group: g })).toBeUndefined();
  });
  it('continues with the node already being removed, one at a time', () => {
    const nodes = [
      stamped('a', 'i-1', '2026-11-22T09:00:00Z'),
      worker('b', 'i-2', {
        unschedulable: true,
        annotations: { [scaleDownAnnotation]: '2026-11-22T10:59:00Z' },
      }),
    ];
    expect(
      scaleDownCandidate({ ...base, pendingPods: 3, nodes, group: group(2, ['i-1', 'i-2']) })?.metadata.name,
    ).toBe('b');
  });
  it('evicts what occupies the node, not DaemonSet, mirror or terminating pods', () => {
    const pods = [
      pod('web', { nodeName: 'a' }),
      pod('logs', { nodeName: 'a', daemonSet: true }),
      pod('static', { nodeName: 'a', mirror: true }),
      pod('going', { nodeName: 'a', deleting: true }),
      pod('other', { nodeName: 'b' }),
    ];
    expect(podsToEvict(pods, 'a').map((p) => p.metadata.name)).toEqual(['web']);
  });
});

describe('a node template from an instance type', () => {
  it('is what the agent would report there, less the kernel share', () => {
    const template = nodeTemplate({
      instanceType: 'm7g.large',
      vcpus: 2,
      memoryMiB: 8192,
      architectures: ['arm64'],
    });
    // 2000m less the agent's 100m; 8 GiB × 0.95 less 256 Mi reserved and the 100 Mi eviction threshold.
    expect(template.allocatable.cpu).toBe('1900m');
    expect(template.allocatable.memory).toBe(`${Math.floor((8192 * 0.95 - 356) * 1024)}Ki`);
    expect(template.allocatable.pods).toBe('110');
    expect(template.labels).toEqual({
      'node.kubernetes.io/instance-type': 'm7g.large',
      'kubernetes.io/arch': 'arm64',
    });
    expect(
      nodeTemplate({ instanceType: 'm7i.large', vcpus: 2, memoryMiB: 8192, architectures: ['x86_64'] })
        .labels,
    ).toMatchObject({ 'kubernetes.io/arch': 'amd64' });
  });
});
