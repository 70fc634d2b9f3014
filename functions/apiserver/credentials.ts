/**
 * The API server's bearer tokens on AWS: read from Secrets Manager once per container (never logged,
 * never in the environment), kept only as SHA-256 digests compared in constant time. Until stored
 * tokens and RBAC arrive (issue 7) there are two: the admin's and the workers' (shared by every agent).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { User } from './server.js';

export const adminUser: User = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
/** The agents' shared identity (per-node identities come with issue 7). */
export const workerUser: User = {
  name: 'lambernetes:worker',
  groups: ['system:nodes', 'system:authenticated'],
};

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** The secret's string, trimmed; an empty or binary secret is a configuration error. */
export async function readToken(client: SecretsManagerClient, secretId: string): Promise<string> {
  const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  const token = answer.SecretString?.trim() ?? '';
  if (token === '') throw new Error(`secret ${secretId} holds no token (an empty or binary secret)`);
  return token;
}

/** Who presents which token: each token's digest against every known one, in constant time. */
export function tokenAuthenticator(known: { token: string; user: User }[]) {
  const digests = known.map(({ token, user }) => ({ digest: sha256(token), user }));
  return async (token: string): Promise<User | undefined> => {
    const digest = sha256(token);
    let found: User | undefined;
    for (const entry of digests) if (timingSafeEqual(digest, entry.digest)) found ??= entry.user;
    return found;
  };
}
