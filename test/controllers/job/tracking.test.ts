import { describe, expect, it } from 'vitest';
import { countReleased, finish } from '../../../functions/controllers/job/tracking.js';
import { now, pod } from './fixtures.js';

describe('counting finished pods', () => {
  it('moves into the counters only the uncounted pods whose finalizer is gone', () => {
    const status = {
      succeeded: 1,
      failed: 2,
      uncountedTerminatedPods: { succeeded: ['a', 'b'], failed: ['c'] },
    };
    expect(countReleased(status, new Set(['b']))).toEqual({
      succeeded: 2,
      failed: 3,
      uncountedTerminatedPods: { succeeded: ['b'] },
    });
  });

  it('counts each pod once however often it runs', () => {
    const once = countReleased({ uncountedTerminatedPods: { succeeded: ['a'] } }, new Set());
    expect(countReleased(once, new Set())).toEqual({ succeeded: 1, uncountedTerminatedPods: {} });
  });
});

describe('the final condition', () => {
  const met = {
    type: 'SuccessCriteriaMet',
    status: 'True' as const,
    reason: 'CompletionsReached',
    message: 'm',
  };
  const target = {
    type: 'FailureTarget',
    status: 'True' as const,
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
  };

  it('completes the Job once its success criteria are met and nothing is uncounted or running', () => {
    const done = finish(
      { succeeded: 3, conditions: [met], uncountedTerminatedPods: {} },
      [pod('a', { phase: 'Succeeded' })],
      now,
    );
    expect(done?.status.conditions?.map((c) => [c.type, c.reason])).toEqual([
      ['SuccessCriteriaMet', 'CompletionsReached'],
      ['Complete', 'CompletionsReached'],
    ]);
    expect(done?.status.completionTime).toBe('2026-01-01T00:10:00Z');
    expect(done?.events).toEqual([{ type: 'Normal', reason: 'Completed', message: 'Job completed' }]);
  });

  it('fails the Job with the reason of its failure target', () => {
    const done = finish({ failed: 2, conditions: [target], uncountedTerminatedPods: {} }, [], now);
    expect(done?.status.conditions?.[1]).toMatchObject({ type: 'Failed', reason: 'BackoffLimitExceeded' });
    expect(done?.status.completionTime).toBeUndefined();
    expect(done?.events).toEqual([
      {
        type: 'Warning',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      },
    ]);
  });

  it('waits while pods are uncounted, running or terminating', () => {
    expect(
      finish({ conditions: [met], uncountedTerminatedPods: { succeeded: ['a'] } }, [], now),
    ).toBeUndefined();
    expect(finish({ conditions: [target], uncountedTerminatedPods: {} }, [pod('a')], now)).toBeUndefined();
    expect(
      finish({ conditions: [target], uncountedTerminatedPods: {} }, [pod('a', { deleting: true })], now),
    ).toBeUndefined();
    expect(finish({ uncountedTerminatedPods: {} }, [], now)).toBeUndefined();
  });
});
