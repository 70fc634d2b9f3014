/**
 * A control-plane function's settings (scheduler, controllers): environment variables, read and
 * checked once at cold start. The names are exported so the CDK stack sets exactly these.
 */

import { env as apiserverEnv } from '../apiserver/config.js';

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
} as const;

export interface ControlFunctionConfig {
  tableName: string;
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
  nodeMonitorGracePeriodMs?: number;
  nodeQueuePrefix?: string;
}

/** Reads the settings; a missing or malformed one throws, naming every variable that is wrong. */
export function loadControlConfig(
  environment: Record<string, string | undefined> = process.env,
): ControlFunctionConfig {
  const problems: string[] = [];
  const required = (name: string, what: string) => {
    const value = environment[name]?.trim() ?? '';
    if (value === '') problems.push(`${name} is not set (${what})`);
    return value;
  };
  const tableName = required(env.tableName, 'the DynamoDB table of the store');
  const retryQueueUrl = required(env.retryQueueUrl, 'the SQS retry queue');
  const deadLetterQueueUrl = required(env.deadLetterQueueUrl, 'the SQS dead-letter queue');
  const grace = environment[env.nodeMonitorGracePeriodMs]?.trim();
  if (grace !== undefined && grace !== '' && !/^\d+$/.test(grace))
    problems.push(`${env.nodeMonitorGracePeriodMs} must be a whole number of milliseconds`);
  if (problems.length > 0) throw new Error(`control function configuration: ${problems.join('; ')}`);
  const prefix = environment[env.nodeQueuePrefix]?.trim();
  return {
    tableName,
    retryQueueUrl,
    deadLetterQueueUrl,
    ...(grace ? { nodeMonitorGracePeriodMs: Number(grace) } : {}),
    ...(prefix ? { nodeQueuePrefix: prefix } : {}),
  };
}
