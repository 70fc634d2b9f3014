/**
 * The API server function's settings: environment variables, read and checked once at cold start.
 * The names are exported so the CDK stack sets exactly these.
 */
import { settingsReader } from '../settings.js';

export const env = {
  /** The store's DynamoDB table. */
  tableName: 'LAMBERNETES_TABLE',
  /** The Secrets Manager secret (ARN or name) holding the admin bearer token. */
  adminTokenSecret: 'LAMBERNETES_ADMIN_TOKEN_SECRET',
  /**
   * The secret holding the workers' token: what agents present to the API server, and what the API
   * server presents to their kubelet endpoints (`pods/log`, `pods/exec`).
   */
  workerTokenSecret: 'LAMBERNETES_WORKER_TOKEN_SECRET',
  /**
   * Optional: the kubelet relay function (in the workers' VPC) that `pods/log` goes through; without it
   * the API server reaches kubelets directly.
   */
  kubeletRelay: 'LAMBERNETES_KUBELET_RELAY',
} as const;

export interface ApiServerConfig {
  tableName: string;
  adminTokenSecret: string;
  workerTokenSecret: string;
  kubeletRelay?: string;
}

/** Reads the settings; a missing one throws, naming every variable that is wrong. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): ApiServerConfig {
  const settings = settingsReader('apiserver', environment);
  const config = {
    tableName: settings.required(env.tableName, 'the DynamoDB table of the store'),
    adminTokenSecret: settings.required(env.adminTokenSecret, 'the secret holding the admin token'),
    workerTokenSecret: settings.required(env.workerTokenSecret, "the secret holding the workers' token"),
  };
  const kubeletRelay = settings.optional(env.kubeletRelay);
  settings.check();
  return { ...config, ...(kubeletRelay ? { kubeletRelay } : {}) };
}
