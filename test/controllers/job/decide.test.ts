import { describe, expect, it } from 'vitest';
import { backoffRemainingMs, syncJob } from '../../../functions/controllers/job/decide.js';
import { job, now, pod } from './fixtures.js';

const names = (pods: { metadata: { name: string } }[]) => pods.map((p) => p.metadata.name);

describe('how many pods a Job runs', () => {
  it('starts as many pods as parallelism allows, and records its start time', () => {
    const sync = syncJob({ job: job({ completions: 3, parallelism: 2 }), pods: [], unseen: 0, now });
    expect(sync.create).toBe(2);
    expect(sync.status.active).toBe(2);
    expect(sync.status.startTime).toBe('2026-01-01T00:10:00Z');
  });

  it('never runs more pods than the completions still missing', () => {
    const spec = { completions: 3, parallelism: 2 };
    const oneDone = { succeeded: 1 };
    expect(syncJob({ job: job(spec, oneDone), pods: [pod('a')], unseen: 0, now }).create).toBe(1);
    expect(syncJob({ job: job(spec, { succeeded: 2 }), pods: [pod('a')], unseen: 0, now }).create).toBe(0);
  });

  it('counts expected pods not seen yet as running', () => {
    const sync = syncJob({ job: job({ completions: 3, parallelism: 2 }), pods: [pod('a')], unseen: 1, now });
    expect(sync.create).toBe(0);
    expect(sync.status.active).toBe(2);
  });

  it('stops surplus pods when parallelism drops, least advanced first, without counting them as failed', () => {
    const pods = [pod('a'), pod('b', { ready: false }), pod('c', { phase: 'Pending', ready: false })];
    const sync = syncJob({ job: job({ completions: 5, parallelism: 1 }), pods, unseen: 0, now });
    expect(names(sync.remove)).toEqual(['c', 'b']);
    expect(names(sync.release)).toEqual(['b', 'c']);
    expect(sync.status.uncountedTerminatedPods).toEqual({});
    expect(sync.status.active).toBe(1);
  });

  it('waits 10 s after a failure before starting a replacement, twice as long after two', () => {
    const failed = pod('a', { phase: 'Failed', finished: '2026-01-01T00:09:57Z' });
    const sync = syncJob({ job: job(), pods: [failed], unseen: 0, now });
    expect(sync.create).toBe(0);
    expect(sync.requeueAfterMs).toBe(7_000);
    const later = new Date('2026-01-01T00:10:08Z');
    expect(syncJob({ job: job(), pods: [failed], unseen: 0, now: later }).create).toBe(1);
    const twice = [pod('b', { phase: 'Failed', finished: '2026-01-01T00:09:50Z' }), failed];
    expect(backoffRemainingMs(twice, later)).toBe(9_000);
    const afterSuccess = [...twice, pod('c', { phase: 'Succeeded', finished: '2026-01-01T00:09:58Z' })];
    expect(backoffRemainingMs(afterSuccess, later)).toBe(0);
  });
});

describe('replacing stopped pods', () => {
  it('does not hold back a replacement for a pod it stopped on purpose', () => {
    const stopped = pod('a', { deleting: true, finalizer: false });
    expect(syncJob({ job: job(), pods: [stopped], unseen: 0, now }).create).toBe(1);
  });
});

describe('how a Job records finished pods', () => {
  it('puts a finished pod that has the finalizer into the uncounted lists and releases it', () => {
    const pods = [pod('a', { phase: 'Succeeded' }), pod('b', { phase: 'Failed' }), pod('c')];
    const sync = syncJob({ job: job({ completions: 5, parallelism: 3 }), pods, unseen: 0, now });
    expect(sync.status.uncountedTerminatedPods).toEqual({ succeeded: ['uid-a'], failed: ['uid-b'] });
    expect(names(sync.release)).toEqual(['a', 'b']);
  });

  it('does not record a pod twice, but releases again one whose finalizer is still on', () => {
    const recorded = { uncountedTerminatedPods: { succeeded: ['uid-a'] } };
    const pods = [pod('a', { phase: 'Succeeded' }), pod('b', { phase: 'Succeeded', finalizer: false })];
    const sync = syncJob({ job: job({ completions: 5, parallelism: 1 }, recorded), pods, unseen: 0, now });
    expect(sync.status.uncountedTerminatedPods).toEqual({ succeeded: ['uid-a'] });
    expect(names(sync.release)).toEqual(['a']);
  });

  it('counts a pod deleted before it finished as failed', () => {
    const sync = syncJob({
      job: job({ completions: 2 }),
      pods: [pod('a', { deleting: true })],
      unseen: 0,
      now,
    });
    expect(sync.status.uncountedTerminatedPods).toEqual({ failed: ['uid-a'] });
    expect(sync.status.terminating).toBe(1);
  });
});

describe('when a Job ends', () => {
  it('meets its success criteria once completions pods succeeded, and starts nothing more', () => {
    const sync = syncJob({
      job: job({ completions: 2 }, { succeeded: 1 }),
      pods: [pod('b', { phase: 'Succeeded' })],
      unseen: 0,
      now,
    });
    expect(sync.status.conditions).toEqual([
      expect.objectContaining({ type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached' }),
    ]);
    expect(sync.create).toBe(0);
    expect(sync.keepExpected).toBe(false);
  });

  it('fails with BackoffLimitExceeded when failures pass backoffLimit, stopping and counting its running pods', () => {
    const pods = [pod('a', { phase: 'Failed' }), pod('b', { phase: 'Failed' }), pod('c')];
    const sync = syncJob({
      job: job({ completions: 3, parallelism: 2, backoffLimit: 1 }),
      pods,
      unseen: 0,
      now,
    });
    expect(sync.status.conditions).toEqual([
      expect.objectContaining({
        type: 'FailureTarget',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      }),
    ]);
    expect(names(sync.remove)).toEqual(['c']);
    expect(sync.status.uncountedTerminatedPods).toEqual({ failed: ['uid-a', 'uid-b', 'uid-c'] });
    expect(sync.create).toBe(0);
  });

  it('is not failed while failures stay within backoffLimit', () => {
    const pods = [pod('a', { phase: 'Failed' })];
    const sync = syncJob({ job: job({ backoffLimit: 1 }), pods, unseen: 0, now });
    expect(sync.status.conditions ?? []).toEqual([]);
  });

  it('fails with DeadlineExceeded past activeDeadlineSeconds, and looks again at the deadline before', () => {
    const started = { startTime: '2026-01-01T00:09:00Z' };
    const past = syncJob({
      job: job({ activeDeadlineSeconds: 30 }, started),
      pods: [pod('a')],
      unseen: 0,
      now,
    });
    expect(past.status.conditions).toEqual([
      expect.objectContaining({ type: 'FailureTarget', reason: 'DeadlineExceeded' }),
    ]);
    expect(names(past.remove)).toEqual(['a']);
    const before = syncJob({
      job: job({ activeDeadlineSeconds: 90 }, started),
      pods: [pod('a')],
      unseen: 0,
      now,
    });
    expect(before.status.conditions ?? []).toEqual([]);
    expect(before.requeueAfterMs).toBe(30_000);
  });

  it('completes a work queue (no completions) when one pod succeeded and none runs', () => {
    const spec = { completions: null, parallelism: 2 };
    const running = syncJob({
      job: job(spec),
      pods: [pod('a', { phase: 'Succeeded' }), pod('b')],
      unseen: 0,
      now,
    });
    expect(running.status.conditions ?? []).toEqual([]);
    expect(running.create).toBe(0);
    const done = syncJob({ job: job(spec), pods: [pod('a', { phase: 'Succeeded' })], unseen: 0, now });
    expect(done.status.conditions).toEqual([expect.objectContaining({ type: 'SuccessCriteriaMet' })]);
  });
});

describe('a suspended Job', () => {
  it('stops its pods without counting them, and says it is suspended', () => {
    const sync = syncJob({ job: job({ suspend: true }), pods: [pod('a')], unseen: 1, now });
    expect(names(sync.remove)).toEqual(['a']);
    expect(names(sync.release)).toEqual(['a']);
    expect(sync.keepExpected).toBe(false);
    expect(sync.create).toBe(0);
    expect(sync.status.startTime).toBeUndefined();
    expect(sync.status.conditions).toEqual([
      expect.objectContaining({ type: 'Suspended', status: 'True', reason: 'JobSuspended' }),
    ]);
    expect(sync.events).toEqual([{ type: 'Normal', reason: 'Suspended', message: 'Job suspended' }]);
  });

  it('resumes: starts pods again and restarts the clock', () => {
    const suspended = {
      conditions: [{ type: 'Suspended', status: 'True' as const, reason: 'JobSuspended' }],
      startTime: '2025-01-01T00:00:00Z',
    };
    const sync = syncJob({ job: job({ suspend: false }, suspended), pods: [], unseen: 0, now });
    expect(sync.create).toBe(1);
    expect(sync.status.conditions).toEqual([
      expect.objectContaining({ type: 'Suspended', status: 'False', reason: 'JobResumed' }),
    ]);
    expect(sync.status.startTime).toBe('2026-01-01T00:10:00Z');
  });
});
