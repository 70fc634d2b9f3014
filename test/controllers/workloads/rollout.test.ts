import { describe, expect, it } from 'vitest';
import {
  activeOrLatest,
  isScalingEvent,
  maxSurge,
  maxUnavailable,
  newReplicaSetReplicas,
  newReplicaSetScale,
  oldReplicaSetScales,
  proportionalScales,
  replicaSetsToCleanUp,
  resolveFenceposts,
} from '../../../functions/controllers/workloads/rollout.js';
import type { ReplicaSet } from '../../../shared/api/core.js';
import { deployment, replicaSet } from './fixtures.js';

const sizes = (scales: { rs: ReplicaSet; replicas: number }[]) =>
  Object.fromEntries(scales.map((s) => [s.rs.metadata.name, s.replicas]));

describe('surge and unavailability', () => {
  it('rounds a percentage of surge up and of unavailability down', () => {
    expect(resolveFenceposts('25%', '25%', 10)).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts('25%', '25%', 5)).toEqual({ surge: 2, unavailable: 1 });
    expect(resolveFenceposts('25%', '25%', 1)).toEqual({ surge: 1, unavailable: 0 });
  });

  it('takes integers as they are', () => {
    expect(resolveFenceposts(2, 3, 10)).toEqual({ surge: 2, unavailable: 3 });
  });

  it('lets one pod be unavailable when both resolve to zero', () => {
    expect(resolveFenceposts('0%', '1%', 2)).toEqual({ surge: 0, unavailable: 1 });
    expect(resolveFenceposts(0, 0, 3)).toEqual({ surge: 0, unavailable: 1 });
  });

  it('rejects a string that is not a percentage', () => {
    expect(() => resolveFenceposts('two', 1, 3)).toThrow(/not a percentage/);
  });

  it('has no surge nor unavailability for Recreate, none unavailable of no replicas, at most all', () => {
    const recreate = deployment(4, {}, { strategy: { type: 'Recreate' } });
    expect(maxSurge(recreate)).toBe(0);
    expect(maxUnavailable(recreate)).toBe(0);
    expect(maxUnavailable(deployment(0))).toBe(0);
    expect(maxUnavailable(deployment(2, { maxUnavailable: 5 }))).toBe(2);
  });
});

describe('scaling up the new ReplicaSet', () => {
  const d = deployment(5); // surge 2, unavailable 1

  it('starts the new ReplicaSet with the surge', () => {
    const newRS = replicaSet('new', 0);
    expect(newReplicaSetReplicas(d, [replicaSet('old', 5), newRS], newRS)).toBe(2);
  });

  it('does not exceed desired + surge', () => {
    const newRS = replicaSet('new', 2, { available: 0 });
    expect(newReplicaSetScale(d, [replicaSet('old', 5), newRS], newRS)).toBeUndefined();
    const grown = replicaSet('new', 2, { available: 0 });
    expect(newReplicaSetScale(d, [replicaSet('old', 4), grown], grown)).toBe(3);
  });

  it('counts the pods a scaled-down ReplicaSet still reports until they are gone', () => {
    const newRS = replicaSet('new', 2, { available: 0 });
    const draining = replicaSet('old', 4, { statusReplicas: 5 });
    expect(newReplicaSetScale(d, [draining, newRS], newRS)).toBeUndefined();
  });

  it('never scales the new ReplicaSet beyond the desired count, and down to it when above', () => {
    const newRS = replicaSet('new', 4);
    expect(newReplicaSetScale(d, [replicaSet('old', 0), newRS], newRS)).toBe(5);
    const above = replicaSet('new', 7);
    expect(newReplicaSetScale(d, [above], above)).toBe(5);
  });

  it('gives a Recreate new ReplicaSet the whole count at once', () => {
    const recreate = deployment(5, {}, { strategy: { type: 'Recreate' } });
    const newRS = replicaSet('new', 0);
    expect(newReplicaSetReplicas(recreate, [newRS], newRS)).toBe(5);
  });
});

describe('scaling down old ReplicaSets', () => {
  const d = deployment(5); // surge 2, unavailable 1: at least 4 available

  it('scales down as far as the available pods allow', () => {
    const old = replicaSet('old', 5);
    const newRS = replicaSet('new', 2, { available: 0 });
    expect(sizes(oldReplicaSetScales(d, [old, newRS], [old], newRS))).toEqual({ old: 4 });
  });

  it('removes unavailable old pods first, then available ones', () => {
    const old = replicaSet('old', 5, { available: 3 });
    const newRS = replicaSet('new', 2, { available: 2 });
    expect(sizes(oldReplicaSetScales(d, [old, newRS], [old], newRS))).toEqual({ old: 2 });
  });

  it('counts no more available pods than a ReplicaSet is scaled to', () => {
    // The old ReplicaSet's status still says 5 available after it was scaled to 4.
    const old = replicaSet('old', 4, { available: 5 });
    const newRS = replicaSet('new', 3, { available: 2 });
    expect(sizes(oldReplicaSetScales(d, [old, newRS], [old], newRS))).toEqual({ old: 2 });
  });

  it('waits while the new pods are unavailable and none may be lost', () => {
    const strict = deployment(5, { maxSurge: 2, maxUnavailable: 0 });
    const old = replicaSet('old', 5);
    const newRS = replicaSet('new', 2, { available: 0 });
    expect(oldReplicaSetScales(strict, [old, newRS], [old], newRS)).toEqual([]);
  });

  it('scales the oldest ReplicaSets down first', () => {
    const older = replicaSet('older', 2, { created: '2024-01-01T00:00:00Z' });
    const old = replicaSet('old', 3, { created: '2024-01-02T00:00:00Z' });
    const newRS = replicaSet('new', 2, { available: 2, created: '2024-01-03T00:00:00Z' });
    expect(sizes(oldReplicaSetScales(d, [older, old, newRS], [older, old], newRS))).toEqual({
      older: 0,
      old: 2,
    });
  });
});

describe('proportional scaling', () => {
  it('gives the whole count to the only active ReplicaSet', () => {
    const old = replicaSet('old', 5);
    expect(sizes(proportionalScales(deployment(8), undefined, [old, replicaSet('older', 0)]))).toEqual({
      old: 8,
    });
  });

  it('scales old ReplicaSets to zero beside a saturated new one', () => {
    const newRS = replicaSet('new', 5, { annotations: { 'deployment.kubernetes.io/desired-replicas': '5' } });
    expect(sizes(proportionalScales(deployment(5), newRS, [replicaSet('old', 1)]))).toEqual({ old: 0 });
  });

  it('shares a scale-up mid-rollout in proportion to the sizes', () => {
    // Scaled from 10 (max 13) to 15 (max 19) with 8 old and 5 new pods: 6 more to share.
    const max = { 'deployment.kubernetes.io/max-replicas': '13' };
    const old = replicaSet('old', 8, { annotations: max, created: '2024-01-01T00:00:00Z' });
    const newRS = replicaSet('new', 5, { annotations: max, created: '2024-01-02T00:00:00Z' });
    const scales = proportionalScales(deployment(15), newRS, [old]);
    expect(sizes(scales)).toEqual({ old: 12, new: 7 });
    expect(scales.every((s) => s.operation === 'up')).toBe(true);
  });

  it('lists every active ReplicaSet when the sizes already add up, to bring their annotations up to date', () => {
    const old = replicaSet('old', 4, { created: '2024-01-01T00:00:00Z' });
    const newRS = replicaSet('new', 3, { created: '2024-01-02T00:00:00Z' });
    const scales = proportionalScales(deployment(5), newRS, [old]);
    expect(sizes(scales)).toEqual({ old: 4, new: 3 });
    expect(scales.map((s) => s.operation)).toEqual(['', '']);
  });

  it('takes every pod away when scaled to zero', () => {
    const old = replicaSet('old', 8);
    const newRS = replicaSet('new', 5);
    const scales = proportionalScales(deployment(0), newRS, [old]);
    expect(sizes(scales)).toEqual({ old: 0, new: 0 });
    expect(scales[0]?.operation).toBe('down');
  });

  it('finds the active ReplicaSet, else the newest', () => {
    const newRS = replicaSet('new', 0);
    expect(activeOrLatest(newRS, [replicaSet('old', 0)])).toBe(newRS);
    const old = replicaSet('old', 2);
    expect(activeOrLatest(newRS, [old])).toBe(old);
    expect(activeOrLatest(replicaSet('new', 1), [old])).toBeUndefined();
  });

  it('calls a change of size a scaling event once the active ReplicaSets were sized for another', () => {
    const sized = (n: number, desired: number) =>
      replicaSet(`rs-${n}`, n, {
        annotations: { 'deployment.kubernetes.io/desired-replicas': String(desired) },
      });
    expect(isScalingEvent(deployment(8), [sized(5, 5)])).toBe(true);
    expect(isScalingEvent(deployment(5), [sized(5, 5), sized(0, 3)])).toBe(false);
  });
});

describe('revision history', () => {
  it('deletes the old ReplicaSets beyond the limit that have no pods, lowest revisions first', () => {
    const rev = (name: string, revision: number, replicas = 0) =>
      replicaSet(name, replicas, { annotations: { 'deployment.kubernetes.io/revision': String(revision) } });
    const d = deployment(3, {}, { revisionHistoryLimit: 1 });
    const cleaned = replicaSetsToCleanUp(d, [rev('c', 3), rev('a', 1), rev('b', 2)]);
    expect(cleaned.map((rs) => rs.metadata.name)).toEqual(['a', 'b']);
    expect(replicaSetsToCleanUp(d, [rev('c', 3), rev('a', 1, 2)]).map((rs) => rs.metadata.name)).toEqual([]);
  });
});
