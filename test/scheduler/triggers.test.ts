import { describe, expect, it } from 'vitest';
import { nodeChanges, podChanges } from '../../functions/scheduler/index.js';
import type { Pod } from '../../shared/api/core.js';
import type { ObjectChange } from '../../shared/store/changes.js';
import { node, pod } from './fixtures.js';

const podKey = { resource: 'pods', namespace: 'default', name: 'p' };
const keys = (change: Partial<ObjectChange>) => [
  ...podChanges.keys({ key: podKey, exists: true, ...change }),
];

const bound = (p: Pod, nodeName = 'n'): Pod => ({ ...p, spec: { ...p.spec, nodeName } });

describe('what wakes the scheduler', () => {
  it('looks at a pod whenever the stream record carries no images', () => {
    expect(keys({})).toEqual(['default/p']);
    expect(keys({ exists: false })).toEqual(['default/p']);
    expect([...nodeChanges.keys({ key: { resource: 'nodes', name: 'n' }, exists: true })]).toEqual([
      'pending',
    ]);
  });

  it('looks at a new pod to place, not at its status changes', () => {
    const p = pod('p');
    expect(keys({ after: p })).toEqual(['default/p']);
    expect(keys({ before: p, after: { ...p, status: { phase: 'Pending' } } })).toEqual([]);
    expect(
      keys({ before: p, after: { ...p, spec: { ...p.spec, tolerations: [{ operator: 'Exists' }] } } }),
    ).toEqual(['default/p']);
    expect(keys({ after: { ...p, spec: { ...p.spec, schedulerName: 'other' } } })).toEqual([]);
  });

  it('looks at a pod that is gone, finished or newly bound, so its room is accounted for', () => {
    const p = bound(pod('p'));
    expect(keys({ exists: false, before: p })).toEqual(['default/p']);
    expect(keys({ before: p, after: { ...p, status: { phase: 'Succeeded' } } })).toEqual(['default/p']);
    expect(keys({ before: pod('p'), after: p })).toEqual(['default/p']);
    expect(keys({ after: p })).toEqual(['default/p']);
    expect(keys({ before: p, after: { ...p, status: { phase: 'Running' } } })).toEqual([]);
  });

  it('retries waiting pods when a node comes or changes what it can take', () => {
    const key = { resource: 'nodes', name: 'n' };
    const n = node('n');
    const retry = (change: Partial<ObjectChange>) => [...nodeChanges.keys({ key, exists: true, ...change })];
    expect(retry({ after: n })).toEqual(['pending']);
    expect(retry({ before: n, after: { ...n, spec: { unschedulable: true } } })).toEqual(['pending']);
    expect(retry({ before: node('n', { ready: 'False' }), after: n })).toEqual(['pending']);
    expect(retry({ before: n, after: { ...n, status: { ...n.status, addresses: [] } } })).toEqual([]);
    expect(retry({ exists: false, before: n })).toEqual([]);
  });
});
