/**
 * Bearer tokens created and revoked by an administrator (`npm run token`), stored only as SHA-256
 * digests: each is a Secret of type `lambernetes.io/token` in kube-system named after the token's
 * public id (as bootstrap tokens are), so a request costs one read and revoking is deleting it.
 *
 * A token is `<id>.<secret>`: 8 characters [a-z0-9] that name the Secret, a dot, and 43 base64url
 * characters (256 random bits) whose digest the Secret keeps.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KubernetesObject } from '../../../shared/api/types.js';
import type { Authenticator, User } from './types.js';

export const tokenNamespace = 'kube-system';
export const tokenSecretType = 'lambernetes.io/token';
const tokenPattern = /^([a-z0-9]{8})\.([A-Za-z0-9_-]{43})$/;

export const tokenSecretName = (id: string) => `token-${id}`;

export interface TokenGrant {
  username: string;
  groups: string[];
  /** RFC 3339; none: the token does not expire. */
  expiration?: string;
  description?: string;
}

/** A new random token and its public id. */
export function newToken(): { id: string; token: string } {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const id = [...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join('');
  return { id, token: `${id}.${randomBytes(32).toString('base64url')}` };
}

const digest = (secret: string) => createHash('sha256').update(secret).digest();
const base64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');

/** The Secret that stores a token's digest and whom it names; never the token itself. */
export function tokenSecret(token: string, grant: TokenGrant): KubernetesObject {
  const match = tokenPattern.exec(token);
  if (!match) throw new Error('not a token made by newToken');
  const [, id, secret] = match as unknown as [string, string, string];
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: tokenSecretName(id),
      namespace: tokenNamespace,
      ...(grant.description ? { annotations: { 'lambernetes.io/description': grant.description } } : {}),
    },
    type: tokenSecretType,
    data: {
      'token-id': base64(id),
      'token-sha256': base64(digest(secret).toString('hex')),
      username: base64(grant.username),
      groups: base64(grant.groups.join(',')),
      ...(grant.expiration ? { expiration: base64(grant.expiration) } : {}),
    },
  };
}

/** What a stored token Secret grants, or undefined when it is not a well-formed token Secret. */
export function storedGrant(
  secret: KubernetesObject,
): (TokenGrant & { id: string; sha256: string }) | undefined {
  if (secret.type !== tokenSecretType) return undefined;
  const data = (secret.data ?? {}) as Record<string, unknown>;
  const field = (name: string) =>
    typeof data[name] === 'string' ? Buffer.from(data[name], 'base64').toString('utf8') : undefined;
  const id = field('token-id');
  const sha256 = field('token-sha256');
  const username = field('username');
  if (!id || !sha256 || !username) return undefined;
  const expiration = field('expiration');
  return {
    id,
    sha256,
    username,
    groups: (field('groups') ?? '').split(',').filter((g) => g !== ''),
    ...(expiration ? { expiration } : {}),
  };
}

/** How long a container trusts what it read about a token (a revoked token stops within this). */
export const tokenCacheMs = 10_000;
const cacheLimit = 1000;

/**
 * Who presents a stored token: its Secret read by id, the digest compared in constant time, the
 * expiration checked. Answers (also "unknown") are cached per token digest for `tokenCacheMs`.
 */
export function storedTokenAuthenticator(
  read: (namespace: string, name: string) => Promise<KubernetesObject | undefined>,
  now: () => Date = () => new Date(),
): Authenticator {
  const cache = new Map<string, { user: User | undefined; until: number }>();
  return async (token) => {
    const match = tokenPattern.exec(token);
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    const presented = digest(secret);
    const key = presented.toString('hex');
    const at = now().getTime();
    const cached = cache.get(key);
    if (cached && cached.until > at) return cached.user;
    const stored = await read(tokenNamespace, tokenSecretName(id));
    const grant = stored && storedGrant(stored);
    const expected = grant && Buffer.from(grant.sha256, 'hex');
    const valid =
      grant !== undefined &&
      grant.id === id &&
      expected?.length === presented.length &&
      timingSafeEqual(expected, presented) &&
      (!grant.expiration || Date.parse(grant.expiration) > at);
    const user: User | undefined = valid
      ? {
          name: grant.username,
          uid: `token:${id}`,
          groups: [...new Set([...grant.groups, 'system:authenticated'])],
        }
      : undefined;
    cache.delete(key);
    if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value as string);
    // An expiring token is not trusted past its expiration.
    const expires = valid && grant.expiration ? Date.parse(grant.expiration) : Number.POSITIVE_INFINITY;
    cache.set(key, { user, until: Math.min(at + tokenCacheMs, expires) });
    return user;
  };
}
