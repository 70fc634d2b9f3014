/**
 * Stored bearer tokens, managed with the real kubectl as an administrator: a token is made here, and
 * only its digest goes to the cluster (a Secret in kube-system; see
 * functions/apiserver/auth/stored-tokens.ts). The token is shown once, when it is created.
 */
import {
  newToken,
  storedGrant,
  type TokenGrant,
  tokenNamespace,
  tokenSecret,
  tokenSecretName,
  tokenSecretType,
} from '../../functions/apiserver/auth/stored-tokens.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { Kubectl } from './kubectl.js';

async function ok(kubectl: Kubectl, args: string[]): Promise<string> {
  const result = await kubectl(args);
  if (result.code !== 0) throw new Error(`kubectl ${args[0]}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** `90m`, `24h`, `30d` in milliseconds; an Error for anything else. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(m|h|d)$/.exec(text);
  if (!match || Number(match[1]) === 0)
    throw new Error(`--ttl ${text}: give a number of minutes, hours or days (90m, 24h, 30d)`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

export interface CreateTokenOptions {
  username: string;
  groups: string[];
  ttlMs?: number;
  description?: string;
  now?: Date;
}

/** Makes a token for a user; returns it (it cannot be read back later) and its id. */
export async function createToken(
  kubectl: Kubectl,
  options: CreateTokenOptions,
): Promise<{ id: string; token: string; expiration?: string }> {
  if (options.username.trim() === '') throw new Error('--user must name a user');
  if (options.groups.some((g) => g === '' || g.includes(',')))
    throw new Error('a --group may not be empty or hold a comma');
  const { id, token } = newToken();
  const expiration =
    options.ttlMs === undefined
      ? undefined
      : new Date((options.now ?? new Date()).getTime() + options.ttlMs).toISOString().replace(/\.\d+Z$/, 'Z');
  const grant: TokenGrant = {
    username: options.username,
    groups: options.groups,
    ...(expiration ? { expiration } : {}),
    ...(options.description ? { description: options.description } : {}),
  };
  const manifest = JSON.stringify(tokenSecret(token, grant));
  const result = await kubectl(['create', '-f', '-', '-o', 'name'], manifest);
  if (result.code !== 0) throw new Error(`kubectl create: ${result.stderr.trim()}`);
  return { id, token, ...(expiration ? { expiration } : {}) };
}

export interface TokenListing {
  id: string;
  username: string;
  groups: string[];
  expiration?: string;
  description?: string;
  created?: string;
}

/** Every stored token: whom it names, never the token. */
export async function listTokens(kubectl: Kubectl): Promise<TokenListing[]> {
  const list = JSON.parse(await ok(kubectl, ['get', 'secrets', '-n', tokenNamespace, '-o', 'json'])) as {
    items: KubernetesObject[];
  };
  return list.items.flatMap((secret) => {
    if (secret.type !== tokenSecretType) return [];
    const grant = storedGrant(secret);
    if (!grant) return [];
    const description = secret.metadata.annotations?.['lambernetes.io/description'];
    return [
      {
        id: grant.id,
        username: grant.username,
        groups: grant.groups,
        ...(grant.expiration ? { expiration: grant.expiration } : {}),
        ...(description ? { description } : {}),
        ...(secret.metadata.creationTimestamp ? { created: secret.metadata.creationTimestamp } : {}),
      },
    ];
  });
}

/** Revokes a token by its id (the part before the dot). */
export async function revokeToken(kubectl: Kubectl, id: string): Promise<void> {
  if (!/^[a-z0-9]{8}$/.test(id)) throw new Error(`${id} is not a token id (8 characters a-z, 0-9)`);
  await ok(kubectl, ['delete', 'secret', '-n', tokenNamespace, tokenSecretName(id)]);
}
