import { describe, expect, it } from 'vitest';
import {
  backOffKey,
  backOffMessage,
  CrashLoopBackOff,
  goDuration,
  maxBackOffMs,
} from '../../agent/kubelet/backoff.js';

const t0 = 1_700_000_000_000;
const s = (seconds: number) => t0 + seconds * 1000;
const key = backOffKey('uid-1', 'app');

/** Crashes the container `times` times, each after running `runSeconds`, restarting as soon as allowed. */
function crashLoop(backOff: CrashLoopBackOff, times: number, runSeconds = 1): number[] {
  const waits: number[] = [];
  let now = t0;
  for (let i = 0; i < times; i++) {
    const startedAt = now;
    now += runSeconds * 1000;
    backOff.recordFailure(key, now, startedAt);
    const wait = backOff.shouldWait(key, now);
    waits.push(wait / 1000);
    now += wait;
  }
  return waits;
}

describe('CrashLoopBackOff', () => {
  it('restarts at once after the first failure, then waits 10 s doubling up to 300 s', () => {
    expect(crashLoop(new CrashLoopBackOff(), 9)).toEqual([0, 10, 20, 40, 80, 160, 300, 300, 300]);
  });

  it('counts the wait from the moment the container exited', () => {
    const backOff = new CrashLoopBackOff();
    backOff.recordFailure(key, s(0));
    backOff.recordFailure(key, s(5));
    expect(backOff.shouldWait(key, s(5))).toBe(10_000);
    expect(backOff.shouldWait(key, s(12))).toBe(3_000);
    expect(backOff.shouldWait(key, s(15))).toBe(0);
    expect(backOff.shouldWait(key, s(60))).toBe(0);
  });

  it('counts the same exit once, so a level-based sync may report it on every pass', () => {
    const backOff = new CrashLoopBackOff();
    backOff.recordFailure(key, s(0));
    backOff.recordFailure(key, s(5));
    backOff.recordFailure(key, s(5));
    backOff.recordFailure(key, s(4));
    expect(backOff.backOffMs(key)).toBe(10_000);
  });

  it('starts over when the container ran more than 10 minutes before failing', () => {
    const backOff = new CrashLoopBackOff();
    crashLoop(backOff, 6);
    expect(backOff.backOffMs(key)).toBe(160_000);
    backOff.recordFailure(key, s(10_000), s(10_000 - 601));
    expect(backOff.shouldWait(key, s(10_000))).toBe(0);
    backOff.recordFailure(key, s(10_002), s(10_001));
    expect(backOff.shouldWait(key, s(10_002))).toBe(10_000);
  });

  it('keeps backing off a container that failed after exactly 10 minutes', () => {
    const backOff = new CrashLoopBackOff();
    crashLoop(backOff, 3);
    backOff.recordFailure(key, s(10_000), s(10_000 - 600));
    expect(backOff.backOffMs(key)).toBe(40_000);
  });

  it('forgets the backoff of a container running for more than 10 minutes', () => {
    const backOff = new CrashLoopBackOff();
    crashLoop(backOff, 4);
    expect(backOff.recordSuccessfulRun(key, s(1000), s(1000 + 599))).toBe(false);
    expect(backOff.backOffMs(key)).toBe(40_000);
    expect(backOff.recordSuccessfulRun(key, s(1000), s(1000 + 601))).toBe(true);
    expect(backOff.backOffMs(key)).toBe(0);
    expect(crashLoop(backOff, 2)).toEqual([0, 10]);
  });

  it('keeps containers apart by pod UID and name', () => {
    const backOff = new CrashLoopBackOff();
    crashLoop(backOff, 3);
    expect(backOff.shouldWait(backOffKey('uid-1', 'sidecar'), t0)).toBe(0);
    expect(backOff.shouldWait(backOffKey('uid-2', 'app'), t0)).toBe(0);
    backOff.forget(key);
    expect(backOff.shouldWait(key, t0)).toBe(0);
  });

  it('words the waiting message like upstream, with Go durations', () => {
    const pod = { name: 'web', namespace: 'default', uid: 'uid-1' };
    expect(backOffMessage(10_000, 'app', pod)).toBe(
      'back-off 10s restarting failed container=app pod=web_default(uid-1)',
    );
    expect(backOffMessage(maxBackOffMs, 'app', pod)).toBe(
      'back-off 5m0s restarting failed container=app pod=web_default(uid-1)',
    );
    expect([20_000, 80_000, 160_000, 3_600_000].map(goDuration)).toEqual(['20s', '1m20s', '2m40s', '1h0m0s']);
  });
});
