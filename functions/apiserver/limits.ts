/**
 * Per-identity limits, kept in the process (a Lambda container, or the local server): a token bucket of
 * requests (429 TooManyRequests with Retry-After when empty, as kube-apiserver's priority and fairness
 * answers), and a cap on the watches one identity holds open. On AWS each container counts for itself,
 * so a client spread over N containers gets up to N times the rate: the limit protects a container and
 * the table's capacity from one runaway client, it is no cluster-wide quota.
 */

export interface Limits {
  /** Requests per second each identity may make, on average. */
  requestsPerSecond: number;
  /** How many requests above the average an identity may make at once. */
  burst: number;
  /** Watches one identity may hold open at once. */
  watchesPerIdentity: number;
}

export const defaultLimits: Limits = { requestsPerSecond: 100, burst: 200, watchesPerIdentity: 100 };

const maxBuckets = 10_000;

/** Takes one request from the identity's bucket: 0 when allowed, else the seconds until one is (≥ 1). */
export function rateLimiter(
  limits: Pick<Limits, 'requestsPerSecond' | 'burst'>,
  now: () => number = Date.now,
) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (identity: string): number => {
    const at = now();
    const bucket = buckets.get(identity) ?? { tokens: limits.burst, at };
    const tokens = Math.min(
      limits.burst,
      bucket.tokens + ((at - bucket.at) / 1000) * limits.requestsPerSecond,
    );
    buckets.delete(identity);
    // The least recently seen identities go first when there are too many (a full bucket is the default).
    if (buckets.size >= maxBuckets) buckets.delete(buckets.keys().next().value as string);
    if (tokens < 1) {
      buckets.set(identity, { tokens, at });
      return Math.max(1, Math.ceil((1 - tokens) / limits.requestsPerSecond));
    }
    buckets.set(identity, { tokens: tokens - 1, at });
    return 0;
  };
}

/** Counts open watches per identity: a release function, or undefined when the identity is at its cap. */
export function watchCounter(maxPerIdentity: number) {
  const open = new Map<string, number>();
  return (identity: string): (() => void) | undefined => {
    const count = open.get(identity) ?? 0;
    if (count >= maxPerIdentity) return undefined;
    open.set(identity, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (open.get(identity) ?? 1) - 1;
      if (left === 0) open.delete(identity);
      else open.set(identity, left);
    };
  };
}

/** The stream, calling `release` once when it ends, fails, or its consumer stops. */
export async function* releasing<T>(stream: AsyncIterable<T>, release: () => void): AsyncGenerator<T> {
  try {
    yield* stream;
  } finally {
    release();
  }
}
