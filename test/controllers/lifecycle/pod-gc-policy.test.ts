import { describe, expect, it } from 'vitest';
import { podsToForceDelete } from '../../../functions/controllers/lifecycle/pod-gc-policy.js';
import type { Node, Pod } from '../../../shared/api/core.js';

const deleting = { deletionTimestamp: '2026-01-01T00:00:00Z' };
const created = { creationTimestamp: '2026-01-01T00:00:00Z' };
const later = Date.parse('2026-01-01T00:01:00Z');

function pod(name: string, nodeName?: string, metadata = {}): Pod {
  return {
    metadata: { name, namespace: 'default', ...created, ...metadata },
    spec: { containers: [{ name: 'c' }], ...(nodeName ? { nodeName } : {}) },
  };
}

function node(name: string, ready: 'True' | 'False' | 'Unknown', outOfService = false): Node {
  return {
    metadata: { name },
    spec: outOfService ? { taints: [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }] } : {},
    status: { conditions: [{ type: 'Ready', status: ready }] },
  };
}

describe('pod garbage collection', () => {
  it('force-deletes pods bound to a node that does not exist, marking them disrupted', () => {
    const nodes = new Map([['a', node('a', 'True')]]);
    const found = podsToForceDelete([pod('kept', 'a'), pod('orphan', 'gone'), pod('pending')], nodes, later);
    expect(found.map((d) => d.pod.metadata.name)).toEqual(['orphan']);
    expect(found[0]?.condition).toEqual({
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'DeletionByPodGC',
      message: 'PodGC: node no longer exists',
    });
  });

  it('leaves a pod bound to a missing node alone for the 40 s quarantine', () => {
    const young = pod('young', 'gone', { creationTimestamp: '2026-01-01T00:00:30Z' });
    expect(podsToForceDelete([young], new Map(), later)).toEqual([]);
    expect(podsToForceDelete([young], new Map(), later + 10_000)).toHaveLength(1);
  });

  it('force-deletes terminating pods only on a node that is out of service and not Ready', () => {
    const nodes = new Map([
      ['down', node('down', 'Unknown')],
      ['oos', node('oos', 'Unknown', true)],
      ['ready-oos', node('ready-oos', 'True', true)],
    ]);
    const pods = [
      pod('stuck', 'down', deleting),
      pod('freed', 'oos', deleting),
      pod('running', 'oos'),
      pod('fine', 'ready-oos', deleting),
    ];
    expect(podsToForceDelete(pods, nodes, later).map((d) => d.pod.metadata.name)).toEqual(['freed']);
  });

  it('force-deletes terminating pods that were never scheduled', () => {
    expect(podsToForceDelete([pod('unscheduled', undefined, deleting)], new Map(), later)).toEqual([
      { pod: pod('unscheduled', undefined, deleting) },
    ]);
  });
});
