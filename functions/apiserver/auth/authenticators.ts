import { createHash, timingSafeEqual } from 'node:crypto';
import type { Store } from '../../../shared/store/store.js';
import { storeReader } from './store-readers.js';
import { storedTokenAuthenticator } from './stored-tokens.js';
import type { Authenticator, User } from './types.js';

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** Tokens known up front (the bootstrap admin's): kept as digests, compared in constant time. */
export function knownTokenAuthenticator(known: { token: string; user: User }[]): Authenticator {
  const digests = known.map(({ token, user }) => ({ digest: sha256(token), user }));
  return async (token) => {
    const digest = sha256(token);
    let found: User | undefined;
    for (const entry of digests) if (timingSafeEqual(digest, entry.digest)) found ??= entry.user;
    return found;
  };
}

/** Tries each authenticator in turn; the first that knows the token names the user. */
export function firstAuthenticator(...authenticators: Authenticator[]): Authenticator {
  return async (token) => {
    for (const authenticate of authenticators) {
      const user = await authenticate(token);
      if (user) return user;
    }
    return undefined;
  };
}

/** Every way a cluster's clients authenticate: the tokens known up front, then the stored tokens. */
export function clusterAuthenticator(store: Store, known: { token: string; user: User }[]): Authenticator {
  return firstAuthenticator(
    knownTokenAuthenticator(known),
    storedTokenAuthenticator(storeReader(store, 'secrets')),
  );
}

/**
 * Remembers whom a token named for `ttlMs` (keyed by its digest; only successes), so a client that
 * presents the same token on every request (an agent's heartbeats) costs one verification a minute
 * instead of one per request: for tokens whose check is a network call (STS).
 */
export function cachedAuthenticator(
  authenticate: Authenticator,
  ttlMs = 60_000,
  now = Date.now,
): Authenticator {
  const cache = new Map<string, { user: User; until: number }>();
  return async (token) => {
    const key = sha256(token).toString('hex');
    const at = now();
    const hit = cache.get(key);
    if (hit && hit.until > at) return hit.user;
    cache.delete(key);
    const user = await authenticate(token);
    if (user) {
      if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
      cache.set(key, { user, until: at + ttlMs });
    }
    return user;
  };
}
