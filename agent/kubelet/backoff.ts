/**
 * CrashLoopBackOff, as upstream's kubelet (`doBackOff` over `flowcontrol.Backoff`, no jitter): pure,
 * keyed by pod UID and container name, fed explicit times. The first restart after a failure is
 * immediate; each further one waits 10 s, then 20 s, 40 s … up to 300 s, counted from the moment the
 * container exited. A container that ran longer than 10 minutes (twice the cap) before it failed
 * starts again from the beginning.
 */

export const initialBackOffMs = 10_000;
export const maxBackOffMs = 300_000;
/** Upstream's `hasExpired`: a run this long (twice the cap) forgets the backoff. */
export const stableRunMs = 2 * maxBackOffMs;

export function backOffKey(podUid: string, containerName: string): string {
  return `${podUid}/${containerName}`;
}

interface Entry {
  /** Failures counted since the last reset; the first one restarts at once. */
  failures: number;
  finishedAtMs: number;
}

export class CrashLoopBackOff {
  private readonly entries = new Map<string, Entry>();

  /**
   * The container exited (and will be restarted) at `finishedAtMs`, after starting at `startedAtMs` if
   * known. Idempotent for the same exit, so a level-based sync loop may report it on every pass.
   */
  recordFailure(key: string, finishedAtMs: number, startedAtMs?: number): void {
    const entry = this.entries.get(key);
    if (entry && finishedAtMs <= entry.finishedAtMs) return;
    const stable = startedAtMs !== undefined && finishedAtMs - startedAtMs > stableRunMs;
    if (!entry || stable) this.entries.set(key, { failures: 1, finishedAtMs });
    else this.entries.set(key, { failures: entry.failures + 1, finishedAtMs });
  }

  /**
   * The container, started at `startedAtMs`, is still running at `nowMs`: once that run is longer than
   * 10 minutes its backoff is forgotten. Returns whether it was.
   */
  recordSuccessfulRun(key: string, startedAtMs: number, nowMs: number): boolean {
    if (nowMs - startedAtMs <= stableRunMs) return false;
    return this.entries.delete(key);
  }

  /** The current delay between the last exit and the next restart (0 before the second failure). */
  backOffMs(key: string): number {
    const failures = this.entries.get(key)?.failures ?? 0;
    if (failures < 2) return 0;
    return Math.min(initialBackOffMs * 2 ** (failures - 2), maxBackOffMs);
  }

  /** How long the sync loop must still wait before restarting the container, or 0. */
  shouldWait(key: string, nowMs: number): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    return Math.max(0, entry.finishedAtMs + this.backOffMs(key) - nowMs);
  }

  /** The pod or container is gone. */
  forget(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * The waiting state's message while in backoff (reason `CrashLoopBackOff`):
 * `back-off 20s restarting failed container=app pod=web_default(7c1e…)`.
 */
export function backOffMessage(
  backOffMs: number,
  containerName: string,
  pod: { name: string; namespace: string; uid: string },
): string {
  return `back-off ${goDuration(backOffMs)} restarting failed container=${containerName} pod=${pod.name}_${pod.namespace}(${pod.uid})`;
}

/** Go's `time.Duration.String()` for whole seconds: `10s`, `1m20s`, `5m0s`. */
export function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
