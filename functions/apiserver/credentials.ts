/**
 * The API server's bootstrap tokens on AWS: read from Secrets Manager once per container (never logged,
 * never in the environment), kept only as SHA-256 digests. There are two: the admin's and the workers'
 * (shared by every agent); users get stored tokens (`npm run token`).
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { User } from './auth/types.js';

export const adminUser: User = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
/** The agents' shared identity (per-node identities come with the node authorizer). */
export const workerUser: User = {
  name: 'lambernetes:worker',
  groups: ['system:nodes', 'system:authenticated'],
};

/** The secret's string, trimmed; an empty or binary secret is a configuration error. */
export async function readToken(client: SecretsManagerClient, secretId: string): Promise<string> {
  const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  const token = answer.SecretString?.trim() ?? '';
  if (token === '') throw new Error(`secret ${secretId} holds no token (an empty or binary secret)`);
  return token;
}
