import { describe, expect, it } from 'vitest';
import { podRemovalKeys, replicaSetChangeKeys } from '../../../functions/controllers/workloads/deployment.js';
import { podChangeKeys } from '../../../functions/controllers/workloads/replicaset.js';
import type { KubernetesObject, OwnerReference } from '../../../shared/api/types.js';
import type { ObjectChange } from '../../../shared/store/changes.js';

const owner = (kind: string, name: string): OwnerReference => ({
  apiVersion: 'apps/v1',
  kind,
  name,
  uid: `${name}-uid`,
  controller: true,
});

function object(owners: OwnerReference[], labels?: Record<string, string>): KubernetesObject {
  return {
    metadata: { name: 'x', namespace: 'ns', ownerReferences: owners, ...(labels ? { labels } : {}) },
    spec: { containers: [] },
    status: { phase: 'Running' },
  };
}

function change(
  resource: string,
  before?: KubernetesObject,
  after?: KubernetesObject,
  exists = true,
): ObjectChange {
  return {
    key: { resource, namespace: 'ns', name: 'x' },
    exists,
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
  };
}

describe('what wakes the ReplicaSet controller', () => {
  it('a pod wakes the ReplicaSets that control it before and after the change', () => {
    const keys = podChangeKeys(
      change(
        'pods',
        object([owner('ReplicaSet', 'a')], { app: 'x' }),
        object([owner('ReplicaSet', 'b')], { app: 'x' }),
      ),
    );
    expect(keys.sort()).toEqual(['ns/a', 'ns/b']);
  });

  it('an active orphan with labels wakes the namespace, for adoption', () => {
    expect(podChangeKeys(change('pods', undefined, object([], { app: 'x' })))).toEqual(['ns/*']);
    expect(podChangeKeys(change('pods', undefined, object([])))).toEqual([]);
  });

  it('a pod of another kind of controller wakes nothing', () => {
    expect(
      podChangeKeys(change('pods', undefined, object([{ ...owner('Job', 'j'), apiVersion: 'batch/v1' }]))),
    ).toEqual([]);
  });

  it('a change without the objects wakes the namespace', () => {
    expect(podChangeKeys(change('pods'))).toEqual(['ns/*']);
  });
});

describe('what wakes the Deployment controller', () => {
  it('a ReplicaSet wakes its Deployment, an orphan or an unknown change the namespace', () => {
    expect(
      replicaSetChangeKeys(change('replicasets.apps', undefined, object([owner('Deployment', 'web')]))),
    ).toEqual(['ns/web']);
    expect(replicaSetChangeKeys(change('replicasets.apps', undefined, object([], { app: 'x' })))).toEqual([
      'ns/*',
    ]);
    expect(replicaSetChangeKeys(change('replicasets.apps'))).toEqual(['ns/*']);
  });

  it('a pod gone for good wakes the Deployment of its ReplicaSet (Recreate waits for it)', () => {
    const gone = object([owner('ReplicaSet', 'web-5d8f6b9d4c')], {
      app: 'web',
      'pod-template-hash': '5d8f6b9d4c',
    });
    expect(podRemovalKeys(change('pods', gone, undefined, false))).toEqual(['ns/web']);
    expect(podRemovalKeys(change('pods', gone, gone, true))).toEqual([]);
    const bare = object([owner('ReplicaSet', 'plain')], { app: 'web' });
    expect(podRemovalKeys(change('pods', bare, undefined, false))).toEqual([]);
  });
});
