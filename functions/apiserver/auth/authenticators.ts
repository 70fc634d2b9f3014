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
