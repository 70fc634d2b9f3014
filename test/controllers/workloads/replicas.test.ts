import { describe, expect, it } from 'vitest';
import { podsToDelete } from '../../../functions/controllers/workloads/pods.js';
import {
  generatedName,
  type Ledger,
  ledgerValue,
  needsSync,
  nextAvailabilityMs,
  parseLedger,
  planReplicas,
  replicaSetStatus,
  sameStatus,
} from '../../../functions/controllers/workloads/replicas.js';
import type { Pod } from '../../../shared/api/core.js';
import { pod, replicaSet } from './fixtures.js';

const now = new Date('2024-01-01T01:00:00Z');
const empty: Ledger = { create: [], delete: [] };

function plan(replicas: number, active: Pod[], ledger: Ledger = empty, existing: string[] = []) {
  let n = 0;
  return planReplicas({
    replicas,
    ledger,
    active,
    existing: new Set([...active.map((p) => p.metadata.name), ...existing]),
    related: active,
    now,
    newName: () => `web-new${n++}`,
  });
}

const names = (pods: Pod[]) => pods.map((p) => p.metadata.name);

describe('the ReplicaSet diff', () => {
  it('plans named creations for missing replicas and records them as pending', () => {
    const result = plan(3, [pod('a')]);
    expect(result.create).toEqual(['web-new0', 'web-new1']);
    expect(result.ledger).toEqual({ create: ['web-new0', 'web-new1'], delete: [] });
  });

  it('counts pending creations as pods, so a second sync plans none and re-issues the same names', () => {
    const first = plan(3, [pod('a')]);
    const second = plan(3, [pod('a')], first.ledger);
    expect(second.create).toEqual(['web-new0', 'web-new1']);
    expect(second.ledger).toEqual(first.ledger);
  });

  it('settles pending creations once the pods exist', () => {
    const result = plan(2, [pod('a'), pod('web-new0')], { create: ['web-new0'], delete: [] });
    expect(result.create).toEqual([]);
    expect(result.ledger).toEqual(empty);
  });

  it('counts pending deletions as gone, re-issues them while the pods are active, settles them after', () => {
    const ledger = { create: [], delete: [{ name: 'b', uid: 'b-uid' }] };
    const pending = plan(1, [pod('a'), pod('b')], ledger);
    expect(names(pending.delete)).toEqual(['b']);
    expect(pending.create).toEqual([]);
    const settled = plan(1, [pod('a')], ledger, ['b']);
    expect(settled.delete).toEqual([]);
    expect(settled.ledger).toEqual(empty);
  });

  it('does not take a pod of the same name but another uid for a pending deletion', () => {
    const recreated = { ...pod('b'), metadata: { ...pod('b').metadata, uid: 'other' } };
    const result = plan(2, [pod('a'), recreated], { create: [], delete: [{ name: 'b', uid: 'b-uid' }] });
    expect(result.delete).toEqual([]);
    expect(result.ledger).toEqual(empty);
  });

  it('deletes the surplus, ranked for deletion', () => {
    const result = plan(1, [pod('ready'), pod('pending', { phase: 'Pending', ready: false })]);
    expect(names(result.delete)).toEqual(['pending']);
    expect(result.ledger.delete).toEqual([{ name: 'pending', uid: 'pending-uid' }]);
  });

  it('keeps the ledger in an annotation, empty meaning none, junk meaning empty', () => {
    expect(ledgerValue(empty)).toBeUndefined();
    const ledger = { create: ['x'], delete: [{ name: 'y', uid: 'u' }] };
    const rs = replicaSet('rs', 1, {
      annotations: { 'replicaset.lambernetes.io/pending': ledgerValue(ledger) as string },
    });
    expect(parseLedger(rs)).toEqual(ledger);
    expect(
      parseLedger(replicaSet('rs', 1, { annotations: { 'replicaset.lambernetes.io/pending': '{' } })),
    ).toEqual(empty);
  });

  it('names pods as generateName would', () => {
    expect(generatedName('web-7c5ddbdf54-')).toMatch(/^web-7c5ddbdf54-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(generatedName(`${'x'.repeat(70)}-`)).toHaveLength(63);
  });
});

describe('which pods a ReplicaSet deletes first', () => {
  const order = (pods: Pod[], related: Pod[] = pods) =>
    names(podsToDelete(pods, related, pods.length - 1, now));

  it('unassigned before assigned', () => {
    expect(order([pod('bound'), pod('unbound', { node: '', phase: 'Pending', ready: false })])).toEqual([
      'unbound',
    ]);
  });

  it('Pending before Unknown before Running', () => {
    const pods = [pod('running'), pod('unknown', { phase: 'Unknown' }), pod('pending', { phase: 'Pending' })];
    expect(order(pods)).toEqual(['pending', 'unknown']);
  });

  it('not ready before ready', () => {
    expect(order([pod('ready'), pod('unready', { ready: false })])).toEqual(['unready']);
  });

  it('lower deletion cost first', () => {
    expect(order([pod('cheap', { cost: -5 }), pod('dear', { cost: 10 })])).toEqual(['cheap']);
  });

  it('doubled-up on a node before alone', () => {
    const pods = [pod('alone', { node: 'n1' }), pod('twin1', { node: 'n2' }), pod('twin2', { node: 'n2' })];
    expect(order(pods).sort()).toEqual(['twin1', 'twin2']);
    expect(names(podsToDelete(pods, pods, 1, now))[0]).toMatch(/^twin/);
  });

  it('ready for less time first, by orders of magnitude', () => {
    const pods = [
      pod('long', { readySince: '2024-01-01T00:00:00Z' }),
      pod('short', { readySince: '2024-01-01T00:59:58Z' }),
    ];
    expect(order(pods)).toEqual(['short']);
  });

  it('more restarts first, then newer first', () => {
    expect(order([pod('calm'), pod('crashy', { restarts: 3 })])).toEqual(['crashy']);
    const pods = [
      pod('old', { created: '2024-01-01T00:00:00Z' }),
      pod('new', { created: '2024-01-01T00:59:00Z' }),
    ];
    expect(order(pods)).toEqual(['new']);
  });
});

describe('ReplicaSet status', () => {
  it('counts replicas, fully labelled, ready and available pods and the generation seen', () => {
    const rs = replicaSet('rs', 3);
    rs.spec.template.metadata = { labels: { app: 'web', tier: 'front' } };
    rs.metadata.generation = 4;
    const pods = [
      pod('a', { labels: { app: 'web', tier: 'front' } }),
      pod('b', { ready: false }),
      pod('c', { labels: { app: 'web', tier: 'front', extra: 'x' } }),
    ];
    expect(replicaSetStatus(rs, pods, now, undefined)).toEqual({
      replicas: 3,
      fullyLabeledReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      observedGeneration: 4,
    });
  });

  it('counts a ready pod available only after minReadySeconds, and says when to look again', () => {
    const rs = replicaSet('rs', 1);
    rs.spec.minReadySeconds = 30;
    const fresh = [pod('a', { readySince: '2024-01-01T00:59:50Z' })];
    expect(replicaSetStatus(rs, fresh, now, undefined).availableReplicas).toBeUndefined();
    expect(nextAvailabilityMs(rs, fresh, now)).toBe(21_000);
    const old = [pod('a', { readySince: '2024-01-01T00:59:00Z' })];
    expect(replicaSetStatus(rs, old, now, undefined).availableReplicas).toBe(1);
    expect(nextAvailabilityMs(rs, old, now)).toBeUndefined();
  });

  it('finds nothing to write for a ReplicaSet with no pods whose status says so', () => {
    const rs = replicaSet('rs', 0);
    const status = replicaSetStatus(rs, [], now, undefined);
    expect(status).toEqual({ replicas: 0, observedGeneration: 1 });
    expect(sameStatus({ replicas: 0, observedGeneration: 1 }, status)).toBe(true);
    expect(sameStatus({ replicas: 0, readyReplicas: 0, observedGeneration: 1 }, status)).toBe(true);
  });

  it('reports a failed create as ReplicaFailure until a sync succeeds', () => {
    const rs = replicaSet('rs', 1);
    const failed = replicaSetStatus(rs, [], now, { reason: 'FailedCreate', message: 'quota' });
    expect(failed.conditions).toEqual([
      {
        type: 'ReplicaFailure',
        status: 'True',
        reason: 'FailedCreate',
        message: 'quota',
        lastTransitionTime: '2024-01-01T01:00:00Z',
      },
    ]);
    const healed = replicaSetStatus({ ...rs, status: failed }, [pod('a')], now, undefined);
    expect(healed.conditions).toBeUndefined();
    expect(sameStatus(failed, healed)).toBe(false);
  });
});

describe('the namespace-wide look', () => {
  const owned = (name: string, rs = 'rs') => {
    const p = pod(name);
    p.metadata.ownerReferences = [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `${rs}-uid`, controller: true },
    ];
    return p;
  };

  it('leaves alone a ReplicaSet with its pods and a status that says so', () => {
    const rs = replicaSet('rs', 1);
    rs.status = {
      replicas: 1,
      fullyLabeledReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 1,
    };
    expect(needsSync(rs, [owned('a')], now)).toBe(false);
  });

  it('syncs a ReplicaSet with an orphan to adopt, a pod missing, or a stale status', () => {
    const rs = replicaSet('rs', 1);
    rs.status = {
      replicas: 1,
      fullyLabeledReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 1,
    };
    expect(needsSync(rs, [owned('a'), pod('orphan')], now)).toBe(true);
    expect(needsSync(rs, [], now)).toBe(true);
    expect(needsSync(rs, [owned('a'), owned('b')], now)).toBe(true);
    expect(needsSync({ ...rs, status: { replicas: 1 } }, [owned('a')], now)).toBe(true);
  });
});
