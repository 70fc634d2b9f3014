/**
 * The API server function's settings: environment variables, read and checked once at cold start.
 * The names are exported so the CDK stack sets exactly these.
 */

export const env = {
  /** The store's DynamoDB table. */
  tableName: 'LAMBERNETES_TABLE',
  /** SHA-256 (64 hex digits) of the one admin bearer token; the token itself is never configured. */
  adminTokenSha256: 'LAMBERNETES_ADMIN_TOKEN_SHA256',
} as const;

export interface ApiServerConfig {
  tableName: string;
  /** The admin token's SHA-256, 32 bytes. */
  adminTokenSha256: Buffer;
}

/** Reads the settings; a missing or malformed one throws, naming every variable that is wrong. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): ApiServerConfig {
  const problems: string[] = [];
  const tableName = environment[env.tableName]?.trim() ?? '';
  if (tableName === '') problems.push(`${env.tableName} is not set (the DynamoDB table of the store)`);
  const hash = environment[env.adminTokenSha256]?.trim() ?? '';
  if (hash === '')
    problems.push(`${env.adminTokenSha256} is not set (the SHA-256 of the admin token, in hex)`);
  else if (!/^[0-9a-f]{64}$/i.test(hash))
    problems.push(`${env.adminTokenSha256} is not a SHA-256 in hex (64 hex digits)`);
  if (problems.length > 0) throw new Error(`apiserver configuration: ${problems.join('; ')}`);
  return { tableName, adminTokenSha256: Buffer.from(hash, 'hex') };
}
