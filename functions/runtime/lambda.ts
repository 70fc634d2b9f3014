/**
 * A control-plane function on Lambda: one handler for the three ways it is invoked — a table stream
 * batch (event source mapping with ReportBatchItemFailures), a retry-queue batch (SQS event source
 * with ReportBatchItemFailures) and an EventBridge schedule (periodic work).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { usagePublisher } from '../../shared/metering/cloudwatch.js';
import { meterDynamoDB } from '../../shared/metering/dynamodb.js';
import { meterSqs } from '../../shared/metering/sqs.js';
import { Store } from '../../shared/store/store.js';
import { logAuditEvent } from '../apiserver/audit.js';
import { Ec2Cloud } from '../cloud/ec2.js';
import { NodeQueues } from '../notifier/queues.js';
import { controlFunctions } from '../registry.js';
import { loadControlConfig } from './config.js';
import { controllerContext } from './in-process.js';
import { sqsRetryQueue } from './retry-queue.js';
import { amazonRootCertificates } from './root-certificates.js';
import { ControllerRuntime } from './runtime.js';

/** What an EventBridge schedule sends; `detail.controllers` may narrow the periodic work. */
interface ScheduledEvent {
  source: string;
  'detail-type'?: string;
  detail?: { controllers?: string[] };
}

type ControlEvent = DynamoDBStreamEvent | SQSEvent | ScheduledEvent;

/** The handler of the named control function (`scheduler`, `controllers`, `notifier`, `cloud`), configured at cold start. */
export function controlFunctionHandler(name: string) {
  // The SDK takes the region from AWS_REGION and honours AWS_ENDPOINT_URL for local endpoints.
  const config = loadControlConfig();
  const dynamo = new DynamoDBClient({});
  const store = Store.of(dynamo, config.tableName);
  const sqs = new SQSClient({});
  const usage = usagePublisher();
  if (usage) {
    meterDynamoDB(dynamo, usage.meter);
    meterSqs(sqs, usage.meter);
  }
  const fn = controlFunctions(
    store,
    {
      ...(config.nodeMonitorGracePeriodMs
        ? { nodeMonitorGracePeriodMs: config.nodeMonitorGracePeriodMs }
        : {}),
      // The function URL's certificate is Amazon's (ACM): its roots verify the API server.
      rootCa: amazonRootCertificates(),
    },
    config.nodeQueuePrefix
      ? new NodeQueues(sqs, config.nodeQueuePrefix, config.instanceArnPrefix)
      : undefined,
    config.cloud
      ? {
          config: config.cloud,
          ec2: new Ec2Cloud(),
        }
      : undefined,
  ).find((f) => f.name === name);
  if (!fn) throw new Error(`no control function named ${name}`);
  const runtime = new ControllerRuntime({
    controllers: fn.controllers,
    context: controllerContext(store, fn.component, { audit: logAuditEvent }),
    retryQueue: sqsRetryQueue(sqs, config.retryQueueUrl, config.deadLetterQueueUrl),
  });
  const handle = async (event: ControlEvent) => {
    if ('Records' in event) {
      const source = event.Records[0]?.eventSource;
      if (source === 'aws:sqs') return runtime.handleQueue(event as SQSEvent);
      return runtime.handleStream(event as DynamoDBStreamEvent);
    }
    await runtime.resync(event.detail?.controllers);
    return undefined;
  };
  return async (event: ControlEvent) => {
    try {
      return await handle(event);
    } finally {
      usage?.publish();
    }
  };
}
