import { describe, expect, it } from 'vitest';
import type { MachineFacts } from '../../agent/kubelet/machine.js';
import { type NodeIdentity, nodeObject, nodeStatus, statusChanged } from '../../agent/kubelet/node-status.js';

const gi = 1024 ** 3;
const facts: MachineFacts = {
  hostname: 'ip-10-0-1-5',
  internalIP: '10.0.1.5',
  cpus: 2,
  memoryBytes: 4 * gi,
  memoryAvailableBytes: 3 * gi,
  diskBytes: 100 * gi,
  diskAvailableBytes: 50 * gi,
  pidMax: 4_194_304,
  pidsInUse: 300,
  osImage: 'Amazon Linux 2023',
  kernelVersion: '6.1.0',
  architecture: 'arm64',
  machineID: 'abc',
  bootID: 'def',
};
const identity: NodeIdentity = {
  name: 'worker-1',
  podCIDR: '10.244.1.0/24',
  providerID: 'aws:///us-east-1a/i-0123',
  labels: { 'node.kubernetes.io/instance-type': 't4g.medium' },
  containerRuntimeVersion: 'docker://28.2.2',
  maxPods: 110,
  reserved: { cpuMilli: 100, memoryBytes: 256 * 1024 * 1024 },
  port: 10250,
};
const at = (s: string) => new Date(`2026-11-22T10:00:${s}Z`);
const byType = (status: ReturnType<typeof nodeStatus>, type: string) =>
  status.conditions?.find((c) => c.type === type);

describe('node object and status', () => {
  it('registers with the well-known labels, the pod CIDR and the provider ID', () => {
    const node = nodeObject(identity, facts);
    expect(node.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': 'worker-1',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'arm64',
      'node.kubernetes.io/instance-type': 't4g.medium',
    });
    expect(node.spec).toEqual({
      podCIDR: '10.244.1.0/24',
      podCIDRs: ['10.244.1.0/24'],
      providerID: 'aws:///us-east-1a/i-0123',
    });
  });

  it('reports capacity from the machine and allocatable less reservations and the eviction threshold', () => {
    const status = nodeStatus(identity, facts, at('00'));
    expect(status.capacity).toEqual({
      cpu: '2',
      memory: '4194304Ki',
      pods: '110',
      'ephemeral-storage': '104857600Ki',
    });
    // 4 GiB - 256 MiB reserved - 100 MiB hard eviction threshold = 3740 MiB.
    expect(status.allocatable).toEqual({
      cpu: '1900m',
      memory: `${3740 * 1024}Ki`,
      pods: '110',
      'ephemeral-storage': '94371840Ki',
    });
    expect(status.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.1.5' },
      { type: 'Hostname', address: 'ip-10-0-1-5' },
    ]);
    expect(status.nodeInfo).toMatchObject({
      containerRuntimeVersion: 'docker://28.2.2',
      architecture: 'arm64',
    });
    expect(byType(status, 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(byType(status, 'MemoryPressure')).toMatchObject({
      status: 'False',
      reason: 'KubeletHasSufficientMemory',
    });
  });

  it('reports pressure at the default hard eviction thresholds', () => {
    const status = nodeStatus(
      identity,
      { ...facts, memoryAvailableBytes: 50 * 1024 * 1024, diskAvailableBytes: 5 * gi, pidsInUse: 4_100_000 },
      at('00'),
    );
    expect(byType(status, 'MemoryPressure')).toMatchObject({
      status: 'True',
      reason: 'KubeletHasInsufficientMemory',
    });
    expect(byType(status, 'DiskPressure')).toMatchObject({
      status: 'True',
      reason: 'KubeletHasDiskPressure',
    });
    expect(byType(status, 'PIDPressure')).toMatchObject({
      status: 'True',
      reason: 'KubeletHasInsufficientPID',
    });
  });

  it('keeps transition times while a condition holds and moves them when it changes', () => {
    const first = nodeStatus(identity, facts, at('00'));
    const later = nodeStatus(identity, facts, at('30'), first);
    expect(byType(later, 'Ready')?.lastTransitionTime).toBe('2026-11-22T10:00:00Z');
    expect(byType(later, 'Ready')?.lastHeartbeatTime).toBe('2026-11-22T10:00:30Z');
    expect(statusChanged(first, later)).toBe(false);

    // The node lifecycle controller marked it Unknown; the agent's next status is a transition.
    const unknown = {
      ...later,
      conditions: later.conditions?.map((c) =>
        c.type === 'Ready' ? { ...c, status: 'Unknown' as const } : c,
      ),
    };
    const back = nodeStatus(identity, facts, at('45'), unknown);
    expect(byType(back, 'Ready')?.lastTransitionTime).toBe('2026-11-22T10:00:45Z');
    expect(byType(back, 'MemoryPressure')?.lastTransitionTime).toBe('2026-11-22T10:00:00Z');
    expect(statusChanged(unknown, back)).toBe(true);
  });
});
