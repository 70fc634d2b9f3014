import { describe, expect, it } from 'vitest';
import {
  effectiveTolerations,
  evictionDecision,
  tolerates,
} from '../../../functions/controllers/lifecycle/tolerations.js';
import type { Pod, Taint, Toleration } from '../../../shared/api/core.js';

const unreachable: Taint = {
  key: 'node.kubernetes.io/unreachable',
  effect: 'NoExecute',
  timeAdded: '2026-01-01T00:00:00Z',
};
const t0 = Date.parse('2026-01-01T00:00:00Z');

function pod(tolerations?: Toleration[], created = '2025-12-31T00:00:00Z'): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', creationTimestamp: created },
    spec: { nodeName: 'n', containers: [{ name: 'c' }], ...(tolerations ? { tolerations } : {}) },
  };
}

describe('toleration matching', () => {
  it('matches key, value and effect as upstream does', () => {
    const taint: Taint = { key: 'k', value: 'v', effect: 'NoExecute' };
    expect(tolerates({ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' }, taint)).toBe(true);
    expect(tolerates({ key: 'k', value: 'v' }, taint)).toBe(true);
    expect(tolerates({ key: 'k', operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: 'k', value: 'w' }, taint)).toBe(false);
    expect(tolerates({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint)).toBe(false);
    expect(tolerates({ key: 'other', operator: 'Exists' }, taint)).toBe(false);
  });

  it('gives a pod that says nothing about not-ready and unreachable nodes the default tolerations', () => {
    expect(effectiveTolerations(pod(), 300)).toEqual([
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
    const own: Toleration = {
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      tolerationSeconds: 5,
    };
    expect(effectiveTolerations(pod([own]), 300)).toEqual([
      own,
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
    expect(effectiveTolerations(pod([{ operator: 'Exists' }]), 300)).toEqual([{ operator: 'Exists' }]);
  });
});

describe('eviction deadline', () => {
  it('evicts at once a pod that does not tolerate a NoExecute taint', () => {
    expect(evictionDecision(pod(), [unreachable], [], t0 + 1000)).toEqual({ evict: 'now' });
  });

  it('never evicts for NoSchedule taints only, or under a toleration without tolerationSeconds', () => {
    expect(evictionDecision(pod(), [{ key: 'x', effect: 'NoSchedule' }], [], t0)).toEqual({ evict: 'never' });
    expect(evictionDecision(pod(), [unreachable], [{ operator: 'Exists' }], t0)).toEqual({ evict: 'never' });
  });

  it('evicts tolerationSeconds after the taint was added', () => {
    const tolerations = effectiveTolerations(pod(), 2);
    expect(evictionDecision(pod(), [unreachable], tolerations, t0 + 1000)).toEqual({
      evict: 'at',
      at: t0 + 2000,
    });
    expect(evictionDecision(pod(), [unreachable], tolerations, t0 + 2000)).toEqual({ evict: 'now' });
  });

  it('takes the shortest tolerationSeconds of the tolerations used', () => {
    const other: Taint = { key: 'maintenance', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' };
    const tolerations: Toleration[] = [
      { key: 'maintenance', operator: 'Exists', tolerationSeconds: 10 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 60 },
    ];
    expect(evictionDecision(pod(), [unreachable, other], tolerations, t0)).toEqual({
      evict: 'at',
      at: t0 + 10_000,
    });
  });

  it('counts from the arrival of a pod bound after the taint was added', () => {
    const late = pod([], '2026-01-01T00:00:30Z');
    expect(evictionDecision(late, [unreachable], effectiveTolerations(late, 5), t0 + 31_000)).toEqual({
      evict: 'at',
      at: t0 + 35_000,
    });
  });
});
