/**
 * The API server's secrets on AWS, read from Secrets Manager once per container (never logged, never in
 * the environment): the bootstrap admin's token (kept only as a digest), the token it presents to the
 * agents' kubelet endpoints, and the service account signing secret. Users get stored tokens (`npm run
 * token`) or IAM mappings; nodes authenticate with their instance role.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { User } from './auth/types.js';

export const adminUser: User = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };

/** The secret's string, trimmed; an empty or binary secret is a configuration error. */
export async function readToken(client: SecretsManagerClient, secretId: string): Promise<string> {
  const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  const token = answer.SecretString?.trim() ?? '';
  if (token === '') throw new Error(`secret ${secretId} holds no token (an empty or binary secret)`);
  return token;
}
