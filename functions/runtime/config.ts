/**
 * A control-plane function's settings (scheduler, controllers, notifier, cloud): environment
 * variables, read and checked once at cold start. The names are exported so the CDK stack sets
 * exactly these.
 */

import { env as apiserverEnv } from '../apiserver/config.js';
import type { CloudControllerConfig } from '../cloud/index.js';
import { settingsReader } from '../settings.js';

export const env = {
  /** The store's DynamoDB table (the same variable as the API server's). */
  tableName: apiserverEnv.tableName,
  /** The function's SQS retry queue (delayed re-reconciles). */
  retryQueueUrl: 'LAMBERNETES_RETRY_QUEUE_URL',
  /** Where keys go when their retries run out. */
  deadLetterQueueUrl: 'LAMBERNETES_DEAD_LETTER_QUEUE_URL',
  /** Optional: milliseconds a node's Lease may go unrenewed before the node is NotReady. */
  nodeMonitorGracePeriodMs: 'LAMBERNETES_NODE_MONITOR_GRACE_PERIOD_MS',
  /** The notifier's: names of node queues start with this (`<prefix>node-<node>`). */
  nodeQueuePrefix: 'LAMBERNETES_NODE_QUEUE_PREFIX',
  /** The notifier's, on AWS: `arn:<partition>:ec2:<region>:<account>:instance/` (node queues' owner tag). */
  instanceArnPrefix: 'LAMBERNETES_INSTANCE_ARN_PREFIX',
  /** The cloud controller's: the workers' Auto Scaling group. */
  workerGroup: 'LAMBERNETES_WORKER_GROUP',
  /** The cloud controller's: the group's instance type (sizes new nodes before one registers). */
  workerInstanceType: 'LAMBERNETES_WORKER_INSTANCE_TYPE',
  /** The cloud controller's: the pod network, whose routes it manages. */
  clusterCidr: 'LAMBERNETES_CLUSTER_CIDR',
  /** The cloud controller's: the VPC whose route tables carry the pod routes. */
  vpcId: 'LAMBERNETES_VPC_ID',
  /** The cloud controller's, optional: how long a node stays empty before it is removed (default 10 min). */
  scaleDownAfterMs: 'LAMBERNETES_SCALE_DOWN_AFTER_MS',
} as const;

/** The cluster autoscaler's default `--scale-down-unneeded-time`. */
const defaultScaleDownAfterMs = 10 * 60_000;

export interface ControlFunctionConfig {
  tableName: string;
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
  nodeMonitorGracePeriodMs?: number;
  nodeQueuePrefix?: string;
  instanceArnPrefix?: string;
  /** Present when the worker group is configured (the cloud function). */
  cloud?: CloudControllerConfig;
}

/** Reads the settings; a missing or malformed one throws, naming every variable that is wrong. */
export function loadControlConfig(
  environment: Record<string, string | undefined> = process.env,
): ControlFunctionConfig {
  const settings = settingsReader('control function', environment);
  const tableName = settings.required(env.tableName, 'the DynamoDB table of the store');
  const retryQueueUrl = settings.required(env.retryQueueUrl, 'the SQS retry queue');
  const deadLetterQueueUrl = settings.required(env.deadLetterQueueUrl, 'the SQS dead-letter queue');
  const grace = settings.wholeNumber(env.nodeMonitorGracePeriodMs, 'a whole number of milliseconds');
  const prefix = settings.optional(env.nodeQueuePrefix);
  const instanceArnPrefix = settings.optional(env.instanceArnPrefix);
  const groupName = settings.optional(env.workerGroup);
  const cloud = groupName
    ? {
        groupName,
        instanceType: settings.required(env.workerInstanceType, "the worker group's instance type"),
        clusterCidr: settings.required(env.clusterCidr, 'the pod network'),
        routeTables: { vpcId: settings.required(env.vpcId, "the workers' VPC") },
        scaleDownAfterMs:
          settings.wholeNumber(env.scaleDownAfterMs, 'a whole number of milliseconds') ??
          defaultScaleDownAfterMs,
      }
    : undefined;
  settings.check();
  return {
    tableName,
    retryQueueUrl,
    deadLetterQueueUrl,
    ...(grace !== undefined ? { nodeMonitorGracePeriodMs: grace } : {}),
    ...(prefix ? { nodeQueuePrefix: prefix } : {}),
    ...(instanceArnPrefix ? { instanceArnPrefix } : {}),
    ...(cloud ? { cloud } : {}),
  };
}
