import { describe, expect, it } from 'vitest';
import { serviceAndPodTriggers } from '../../../functions/controllers/endpoints/scope.js';
import type { ObjectChange } from '../../../shared/store/changes.js';
import { pod } from './fixtures.js';

function keys(resource: string, change: Omit<ObjectChange, 'key'> & { name?: string }): string[] {
  const trigger = serviceAndPodTriggers.find((t) => t.resource === resource);
  return [
    ...(trigger?.keys({ key: { resource, namespace: 'default', name: change.name ?? 'x' }, ...change }) ??
      []),
  ];
}

describe('what wakes the endpoints controllers', () => {
  it('wakes a service by its own key', () => {
    expect(keys('services', { name: 'web', exists: false })).toEqual(['default/web']);
  });

  it('wakes the namespace for a pod change its endpoints can show', () => {
    expect(keys('pods', { before: pod('a'), after: pod('a', { ready: false }), exists: true })).toEqual([
      'default/*',
    ]);
    expect(keys('pods', { before: pod('a'), exists: false })).toEqual(['default/*']);
    expect(keys('pods', { exists: true })).toEqual(['default/*']);
  });

  it('ignores a pod change its endpoints cannot show', () => {
    const annotated = pod('a');
    annotated.metadata.annotations = { note: 'hello' };
    expect(keys('pods', { before: pod('a'), after: annotated, exists: true })).toEqual([]);
  });
});
