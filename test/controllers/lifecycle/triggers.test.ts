import { describe, expect, it } from 'vitest';
import { garbageCollector } from '../../../functions/controllers/lifecycle/garbage-collector.js';
import { namespaceController } from '../../../functions/controllers/lifecycle/namespace.js';
import { nodeLifecycleController } from '../../../functions/controllers/lifecycle/node-lifecycle.js';
import type { Controller } from '../../../functions/runtime/controller.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import type { ObjectChange } from '../../../shared/store/changes.js';

function keys(controller: Controller, change: ObjectChange): string[] {
  return controller.triggers
    .filter((t) => t.resource === change.key.resource)
    .flatMap((t) => [...t.keys(change)]);
}

const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs-uid' };
const pod = (metadata: Partial<KubernetesObject['metadata']> = {}): KubernetesObject => ({
  metadata: { name: 'p', namespace: 'ns', ...metadata },
});
const podKey = { resource: 'pods', namespace: 'ns', name: 'p' };

describe('garbage collector triggers', () => {
  const gc = garbageCollector();

  it('looks for the dependents of any deleted object', () => {
    expect(keys(gc, { key: podKey, before: pod(), exists: false })).toEqual(['owner-gone:pods:ns/p']);
  });

  it('looks at an object whose owner references are new or changed, not at its other changes', () => {
    const owned = pod({ ownerReferences: [rs] });
    expect(keys(gc, { key: podKey, after: owned, exists: true })).toEqual(['object:pods:ns/p']);
    expect(keys(gc, { key: podKey, before: owned, after: { ...owned, status: {} }, exists: true })).toEqual(
      [],
    );
    expect(keys(gc, { key: podKey, before: pod(), after: pod(), exists: true })).toEqual([]);
  });

  it('looks at an object when its foreground or orphan deletion begins', () => {
    const deleting = pod({ deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] });
    expect(keys(gc, { key: podKey, before: pod(), after: deleting, exists: true })).toEqual([
      'object:pods:ns/p',
    ]);
  });

  it('wakes the owner a deleted dependent was blocking', () => {
    const blocking = pod({ ownerReferences: [{ ...rs, blockOwnerDeletion: true }] });
    expect(keys(gc, { key: podKey, before: blocking, exists: false })).toEqual([
      'owner-gone:pods:ns/p',
      'object:replicasets.apps:ns/web-1',
    ]);
  });

  it('looks at a changed object whose stream record carried no image', () => {
    expect(keys(gc, { key: podKey, exists: true })).toEqual(['object:pods:ns/p']);
  });
});

describe('node lifecycle triggers', () => {
  const lifecycle = nodeLifecycleController({ gracePeriodMs: 40_000, resyncIntervalMs: 10_000 });

  it('names each node Lease renewal by its renewTime, so a look is scheduled per renewal', () => {
    const lease = {
      metadata: { name: 'n1', namespace: 'kube-node-lease' },
      spec: { renewTime: '2026-01-01T00:00:00.123456Z' },
    };
    const key = { resource: 'leases.coordination.k8s.io', namespace: 'kube-node-lease', name: 'n1' };
    expect(keys(lifecycle, { key, after: lease, exists: true })).toEqual(['n1@2026-01-01T00:00:00.123456Z']);
    expect(keys(lifecycle, { key: { ...key, namespace: 'default' }, after: lease, exists: true })).toEqual(
      [],
    );
  });
});

describe('namespace controller triggers', () => {
  const controller = namespaceController({ resyncIntervalMs: 30_000 });
  const key = { resource: 'namespaces', name: 'x' };
  const ns = (deleting: boolean): KubernetesObject => ({
    metadata: { name: 'x', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  });

  it('starts when the deletion of a namespace begins, not on its later changes', () => {
    expect(keys(controller, { key, before: ns(false), after: ns(true), exists: true })).toEqual(['x']);
    expect(keys(controller, { key, before: ns(true), after: ns(true), exists: true })).toEqual([]);
    expect(keys(controller, { key, before: ns(false), after: ns(false), exists: true })).toEqual([]);
  });
});
