import { describe, expect, it } from 'vitest';
import { jobsOfPod } from '../../../functions/controllers/job/triggers.js';
import { pod } from './fixtures.js';

const key = { resource: 'pods', namespace: 'default', name: 'work-abcde' };

describe('which Jobs a pod change wakes', () => {
  it('wakes the Job controlling the pod', () => {
    expect(
      jobsOfPod({ key, before: pod('a'), after: pod('a', { phase: 'Succeeded' }), exists: true }),
    ).toEqual(['default/work']);
    expect(jobsOfPod({ key, before: pod('a'), exists: false })).toEqual(['default/work']);
  });

  it('wakes the Job named by an orphaned pod that still has the tracking finalizer, and no other', () => {
    const orphan = pod('a');
    orphan.metadata.ownerReferences = [];
    orphan.metadata.labels = { 'batch.kubernetes.io/job-name': 'gone' };
    expect(jobsOfPod({ key, after: orphan, exists: true })).toEqual(['default/gone']);
    const released = { ...orphan, metadata: { ...orphan.metadata, finalizers: [] } };
    expect(jobsOfPod({ key, after: released, exists: true })).toEqual([]);
    const replicaSetPod = pod('b');
    replicaSetPod.metadata.ownerReferences = [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true },
    ];
    expect(jobsOfPod({ key, after: replicaSetPod, exists: true })).toEqual([]);
  });

  it('wakes every Job of the namespace when the change does not carry the pod', () => {
    expect(jobsOfPod({ key, exists: false })).toEqual(['default/*']);
  });
});
