import { describe, expect, it } from 'vitest';
import {
  type ContentTally,
  contentGone,
  deletionConditions,
  recheckDelayMs,
} from '../../../functions/controllers/lifecycle/namespace-deletion.js';

const now = '2026-01-01T00:00:10Z';
const tally = (resource: string, group: string, extra: Partial<ContentTally> = {}): ContentTally => ({
  resource,
  group,
  remaining: 0,
  finalizers: {},
  errors: [],
  ...extra,
});

describe('namespace deletion conditions', () => {
  it('says what remains and which finalizers hold it, as upstream words it', () => {
    const conditions = deletionConditions(
      [
        tally('pods', '', { remaining: 2 }),
        tally('configmaps', '', { remaining: 1, finalizers: { 'example.com/hold': 1 } }),
        tally('deployments', 'apps'),
      ],
      undefined,
      now,
    );
    expect(conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
      ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
      ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
      ['NamespaceContentRemaining', 'True', 'SomeResourcesRemain'],
      ['NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain'],
    ]);
    expect(conditions[3]?.message).toBe(
      'Some resources are remaining: configmaps. has 1 resource instances, pods. has 2 resource instances',
    );
    expect(conditions[4]?.message).toBe(
      'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    );
    expect(conditions.every((c) => c.lastTransitionTime === now)).toBe(true);
  });

  it('reports failed deletions and keeps the transition time of unchanged conditions', () => {
    const first = deletionConditions([tally('pods', '')], undefined, '2026-01-01T00:00:00Z');
    const second = deletionConditions([tally('secrets', '', { errors: ['boom'], remaining: 1 })], first, now);
    expect(second.find((c) => c.type === 'NamespaceDeletionContentFailure')).toMatchObject({
      status: 'True',
      reason: 'ContentDeletionFailed',
      message: 'Failed to delete all resource types, 1 remaining: boom',
      lastTransitionTime: now,
    });
    expect(second.find((c) => c.type === 'NamespaceDeletionDiscoveryFailure')?.lastTransitionTime).toBe(
      '2026-01-01T00:00:00Z',
    );
  });

  it('finishes only when nothing remains and nothing failed', () => {
    expect(contentGone([tally('pods', ''), tally('deployments', 'apps')])).toBe(true);
    expect(contentGone([tally('pods', '', { remaining: 1 })])).toBe(false);
    expect(contentGone([tally('pods', '', { errors: ['boom'] })])).toBe(false);
  });

  it('looks again soon at first, then less often, at most every minute', () => {
    const start = '2026-01-01T00:00:00Z';
    const t0 = Date.parse(start);
    expect(recheckDelayMs(start, t0 + 500)).toBe(1000);
    expect(recheckDelayMs(start, t0 + 100_000)).toBe(20_000);
    expect(recheckDelayMs(start, t0 + 3_600_000)).toBe(60_000);
  });
});
