import { describe, expect, it } from 'vitest';
import {
  blockingDependents,
  deletionStage,
  dependentAction,
  dependentTypes,
  type OwnerState,
  ownerState,
  ownerType,
  refersTo,
  withoutOwners,
} from '../../../functions/controllers/lifecycle/owners.js';
import type { OwnerReference } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';

const ref = (uid: string, extra: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  name: `rs-${uid}`,
  uid,
  ...extra,
});

function object(
  refs: OwnerReference[],
  metadata: Partial<KubernetesObject['metadata']> = {},
): KubernetesObject {
  return { metadata: { name: 'o', namespace: 'default', uid: 'self', ownerReferences: refs, ...metadata } };
}

const states = (entries: Record<string, OwnerState>) => new Map(Object.entries(entries));

describe('owner state', () => {
  it('is dangling when the owner is gone or was recreated under another uid', () => {
    expect(ownerState(ref('a'), undefined)).toBe('dangling');
    expect(ownerState(ref('a'), { metadata: { name: 'rs-a', uid: 'b' } })).toBe('dangling');
  });

  it('is waiting while the owner is deleted in the foreground, solid otherwise', () => {
    const deleting = { name: 'rs-a', uid: 'a', deletionTimestamp: '2026-01-01T00:00:00Z' };
    expect(ownerState(ref('a'), { metadata: { ...deleting, finalizers: ['foregroundDeletion'] } })).toBe(
      'waiting',
    );
    expect(ownerState(ref('a'), { metadata: { ...deleting, finalizers: ['orphan'] } })).toBe('solid');
    expect(ownerState(ref('a'), { metadata: { name: 'rs-a', uid: 'a' } })).toBe('solid');
  });
});

describe('what becomes of a dependent', () => {
  it('keeps an object with no owners or only solid ones', () => {
    expect(dependentAction(object([]), states({}))).toEqual({ action: 'keep' });
    expect(dependentAction(object([ref('a')]), states({ a: 'solid' }))).toEqual({ action: 'keep' });
  });

  it('deletes in the background an object whose owners are all gone', () => {
    expect(dependentAction(object([ref('a'), ref('b')]), states({ a: 'dangling', b: 'dangling' }))).toEqual({
      action: 'delete',
      propagationPolicy: 'Background',
    });
  });

  it('deletes in the foreground a dependent an owner waits for', () => {
    expect(dependentAction(object([ref('a'), ref('b')]), states({ a: 'waiting', b: 'dangling' }))).toEqual({
      action: 'delete',
      propagationPolicy: 'Foreground',
    });
  });

  it('honours an orphan finalizer the dependent already has', () => {
    expect(
      dependentAction(object([ref('a')], { finalizers: ['orphan'] }), states({ a: 'dangling' })),
    ).toEqual({
      action: 'delete',
      propagationPolicy: 'Orphan',
    });
  });

  it('only drops the references to gone and waiting owners while a solid owner remains', () => {
    expect(
      dependentAction(
        object([ref('a'), ref('b'), ref('c')]),
        states({ a: 'solid', b: 'dangling', c: 'waiting' }),
      ),
    ).toEqual({ action: 'unlink', uids: ['b', 'c'] });
  });

  it('never deletes for an owner of a kind this server does not serve', () => {
    const foreign = ref('x', { apiVersion: 'example.com/v1', kind: 'Widget' });
    expect(dependentAction(object([foreign, ref('a')]), states({ x: 'unknown', a: 'dangling' }))).toEqual({
      action: 'unlink',
      uids: ['a'],
    });
  });
});

describe('owners being deleted', () => {
  it('tells the deletion stage from the finalizers', () => {
    const deleting = { deletionTimestamp: '2026-01-01T00:00:00Z' };
    expect(deletionStage(object([]))).toBe('live');
    expect(deletionStage(object([], deleting))).toBe('deleting');
    expect(deletionStage(object([], { ...deleting, finalizers: ['foregroundDeletion'] }))).toBe(
      'deletingDependents',
    );
    expect(deletionStage(object([], { ...deleting, finalizers: ['orphan'] }))).toBe('orphaningDependents');
  });

  it('is held back only by dependents whose reference blocks owner deletion', () => {
    const blocking = object([ref('a', { blockOwnerDeletion: true })], { name: 'blocking' });
    const free = object([ref('a')], { name: 'free' });
    const other = object([ref('b', { blockOwnerDeletion: true })], { name: 'other' });
    expect(blockingDependents('a', [blocking, free, other]).map((d) => d.metadata.name)).toEqual([
      'blocking',
    ]);
  });

  it('drops the references to given owners', () => {
    expect(withoutOwners(object([ref('a'), ref('b')]), ['a'])).toEqual([ref('b')]);
  });
});

describe('resource types of owners and dependents', () => {
  it('finds the served type an owner reference names, whatever its version', () => {
    expect(ownerType(ref('a'))?.resource).toBe('replicasets');
    expect(ownerType({ apiVersion: 'v1', kind: 'ConfigMap' })?.resource).toBe('configmaps');
    expect(ownerType({ apiVersion: 'apps/v1beta2', kind: 'Deployment' })?.resource).toBe('deployments');
    expect(ownerType({ apiVersion: 'example.com/v1', kind: 'Widget' })).toBeUndefined();
  });

  it('looks for dependents of a namespaced owner among namespaced types, not events', () => {
    const types = dependentTypes(resourceType('replicasets.apps'));
    expect(types.every((t) => t.namespaced)).toBe(true);
    expect(types.map((t) => t.resource)).toContain('pods');
    expect(types.map((t) => t.resource)).not.toContain('events');
    expect(dependentTypes(resourceType('nodes')).map((t) => t.resource)).toEqual(
      expect.arrayContaining(['leases', 'nodes', 'pods']),
    );
  });

  it('matches a reference to an owner by type and name', () => {
    expect(refersTo(ref('a'), resourceType('replicasets.apps'), 'rs-a')).toBe(true);
    expect(refersTo(ref('a'), resourceType('replicasets.apps'), 'rs-b')).toBe(false);
    expect(refersTo(ref('a'), resourceType('deployments.apps'), 'rs-a')).toBe(false);
  });
});
