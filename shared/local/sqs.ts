import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { localCredentials } from './dynamodb-local.js';

export interface LocalSqs {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * An SQS endpoint on a free loopback port (fauxqs, in this process) for the control plane's retry
 * queues and the agents' notification queues: the same SQS client code as on AWS talks to it.
 */
export async function startLocalSqs(): Promise<LocalSqs> {
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  return { endpoint: fauxqs.address, stop: () => fauxqs.stop() };
}

/** A client of a local SQS endpoint (the caller destroys it). */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: 'us-east-1', credentials: localCredentials });
}
