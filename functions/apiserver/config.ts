/**
 * The API server function's settings: environment variables, read and checked once at cold start.
 * The names are exported so the CDK stack sets exactly these.
 */
import { settingsReader } from '../settings.js';
import { type IamAccessConfig, parseIamAccessConfig } from './auth/aws-iam.js';

export const env = {
  /** The store's DynamoDB table. */
  tableName: 'LAMBERNETES_TABLE',
  /** The Secrets Manager secret (ARN or name) holding the admin bearer token. */
  adminTokenSecret: 'LAMBERNETES_ADMIN_TOKEN_SECRET',
  /** The secret holding what the API server presents to the agents' kubelet endpoints (`pods/log`). */
  workerTokenSecret: 'LAMBERNETES_WORKER_TOKEN_SECRET',
  /** The secret service account tokens' signing key is derived from. */
  serviceAccountSigningSecret: 'LAMBERNETES_SERVICE_ACCOUNT_SIGNING_SECRET',
  /** The cluster's name: what `aws eks get-token` tokens must be minted for. */
  clusterName: 'LAMBERNETES_CLUSTER_NAME',
  /**
   * Optional: which IAM roles and users are which Kubernetes users (JSON, `IamAccessConfig`); without
   * it no IAM identity is accepted.
   */
  iamAccess: 'LAMBERNETES_IAM_ACCESS',
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
  serviceAccountSigningSecret: string;
  clusterName: string;
  iamAccess?: IamAccessConfig;
  kubeletRelay?: string;
}

/** Reads the settings; a missing one throws, naming every variable that is wrong. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): ApiServerConfig {
  const settings = settingsReader('apiserver', environment);
  const config = {
    tableName: settings.required(env.tableName, 'the DynamoDB table of the store'),
    adminTokenSecret: settings.required(env.adminTokenSecret, 'the secret holding the admin token'),
    workerTokenSecret: settings.required(env.workerTokenSecret, "the secret holding the workers' token"),
    serviceAccountSigningSecret: settings.required(
      env.serviceAccountSigningSecret,
      'the secret service account tokens are signed with',
    ),
    clusterName: settings.required(env.clusterName, "the cluster's name"),
  };
  const kubeletRelay = settings.optional(env.kubeletRelay);
  const iamAccessText = settings.optional(env.iamAccess);
  settings.check();
  // A malformed mapping fails the cold start, loudly (it names what is wrong, never a token).
  const iamAccess = iamAccessText ? parseIamAccessConfig(iamAccessText) : undefined;
  return { ...config, ...(iamAccess ? { iamAccess } : {}), ...(kubeletRelay ? { kubeletRelay } : {}) };
}
