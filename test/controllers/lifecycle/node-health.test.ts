import { describe, expect, it } from 'vitest';
import {
  desiredTaints,
  heartbeatDeadline,
  lastHeartbeat,
  sameTaints,
  silentNodeConditions,
} from '../../../functions/controllers/lifecycle/node-health.js';
import type { Lease, Node } from '../../../shared/api/core.js';

const now = '2026-01-01T00:01:00Z';

function node(ready: 'True' | 'False' | 'Unknown' | undefined, extra: Partial<Node> = {}): Node {
  return {
    metadata: { name: 'n', creationTimestamp: '2026-01-01T00:00:00Z' },
    status: {
      conditions: [
        ...(ready
          ? [
              {
                type: 'Ready',
                status: ready,
                reason: 'KubeletReady',
                lastHeartbeatTime: '2026-01-01T00:00:10Z',
              },
            ]
          : []),
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
      ],
    },
    ...extra,
  };
}

const lease = (renewTime: string): Lease => ({ metadata: { name: 'n' }, spec: { renewTime } });

describe('lease expiry', () => {
  it('takes the newer of the lease renewal and the Ready heartbeat', () => {
    expect(lastHeartbeat(node('True'), lease('2026-01-01T00:00:20.500000Z'))).toBe(
      Date.parse('2026-01-01T00:00:20.500Z'),
    );
    expect(lastHeartbeat(node('True'), lease('2026-01-01T00:00:05Z'))).toBe(
      Date.parse('2026-01-01T00:00:10Z'),
    );
  });

  it('expires a grace period after the last heartbeat, or after creation for a node that never sent one', () => {
    expect(heartbeatDeadline(node('True'), lease('2026-01-01T00:00:20Z'), 40_000)).toBe(
      Date.parse('2026-01-01T00:01:00Z'),
    );
    expect(heartbeatDeadline(node(undefined), undefined, 40_000)).toBe(Date.parse('2026-01-01T00:00:40Z'));
  });
});

describe('conditions of a silent node', () => {
  it('turns every kubelet condition Unknown with NodeStatusUnknown, keeping the heartbeat time', () => {
    const conditions = silentNodeConditions(node('True'), now);
    expect(conditions.find((c) => c.type === 'Ready')).toEqual({
      type: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastHeartbeatTime: '2026-01-01T00:00:10Z',
      lastTransitionTime: now,
    });
    expect(conditions.find((c) => c.type === 'MemoryPressure')?.status).toBe('Unknown');
    expect(conditions.find((c) => c.type === 'PIDPressure')).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusNeverUpdated',
      message: 'Kubelet never posted node status.',
    });
  });

  it('leaves conditions that are already Unknown as they are', () => {
    const once = silentNodeConditions(node('True'), now);
    const silent: Node = { ...node('True'), status: { conditions: once } };
    expect(silentNodeConditions(silent, '2026-01-01T00:05:00Z')).toEqual(once);
  });
});

describe('taints from conditions', () => {
  it('taints an unreachable node NoExecute and NoSchedule, stamping the NoExecute taint', () => {
    expect(desiredTaints(node('Unknown'), now)).toEqual([
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: now },
    ]);
  });

  it('taints a not-ready node with not-ready, replacing unreachable', () => {
    const was = node('False', {
      spec: {
        taints: [
          { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:30Z' },
          { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
        ],
      },
    });
    expect(desiredTaints(was, now)).toEqual([
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: now },
    ]);
  });

  it('keeps the time an existing taint was added, and taints set by others', () => {
    const tainted = node('Unknown', {
      spec: {
        taints: [
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:50Z' },
        ],
      },
    });
    expect(desiredTaints(tainted, now)).toEqual([
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:50Z' },
    ]);
  });

  it('removes the controller taints from a node that is Ready again', () => {
    const recovered = node('True', {
      spec: {
        taints: [
          { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: now },
          { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
        ],
      },
    });
    expect(desiredTaints(recovered, now)).toEqual([]);
  });

  it('taints pressure conditions and a cordoned node NoSchedule', () => {
    const pressed: Node = {
      metadata: { name: 'n' },
      spec: { unschedulable: true },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'MemoryPressure', status: 'True' },
          { type: 'DiskPressure', status: 'True' },
          { type: 'PIDPressure', status: 'True' },
          { type: 'NetworkUnavailable', status: 'True' },
        ],
      },
    };
    expect(desiredTaints(pressed, now).map((t) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/network-unavailable:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
  });

  it('compares taints as sets', () => {
    const a = { key: 'a', effect: 'NoSchedule' as const };
    const b = { key: 'b', effect: 'NoExecute' as const, timeAdded: now };
    expect(sameTaints([a, b], [b, a])).toBe(true);
    expect(sameTaints([a], [a, b])).toBe(false);
  });
});
