import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControlConfig } from '../../functions/runtime/config.js';
import { controlFunctionHandler } from '../../functions/runtime/lambda.js';
import { localCredentials } from '../../shared/local/dynamodb-local.js';
import { dynamoEndpoint, freshTable, testClient } from '../support/dynamo.js';

const message = (messageId: string, body: string) =>
  ({ messageId, body, eventSource: 'aws:sqs', receiptHandle: messageId }) as SQSEvent['Records'][number];

describe('a control function on Lambda', () => {
  let fauxqs: Awaited<ReturnType<typeof startFauxqs>>;
  let handler: ReturnType<typeof controlFunctionHandler>;
  const saved = { ...process.env };

  beforeAll(async () => {
    fauxqs = await startFauxqs({ port: 0, logger: false });
    const sqs = new SQSClient({
      endpoint: fauxqs.address,
      region: 'us-east-1',
      credentials: localCredentials,
    });
    const retry = await sqs.send(new CreateQueueCommand({ QueueName: 'retry' }));
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'dlq' }));
    sqs.destroy();
    // The configuration a stack gives the function, with the SDK's own endpoint variables pointing
    // it at DynamoDB Local and fauxqs.
    Object.assign(process.env, {
      LAMBERNETES_TABLE: await freshTable(testClient()),
      LAMBERNETES_RETRY_QUEUE_URL: retry.QueueUrl,
      LAMBERNETES_DEAD_LETTER_QUEUE_URL: dlq.QueueUrl,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: fauxqs.address,
    });
    handler = controlFunctionHandler('controllers');
  });
  afterAll(async () => {
    process.env = saved;
    await fauxqs?.stop();
  });

  it('reconciles retry-queue messages and reports the ones that are not work items', async () => {
    const result = await handler({
      Records: [
        message('good', JSON.stringify({ controller: 'event-ttl', key: 'default/gone', attempt: 0 })),
        message('bad', '{"not":"a work item"}'),
      ],
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
  });

  it('runs the periodic work on a schedule', async () => {
    await expect(
      handler({ source: 'aws.events', detail: { controllers: ['event-ttl'] } }),
    ).resolves.toBeUndefined();
  });

  it('refuses to start without its configuration, naming what is missing', () => {
    expect(() => loadControlConfig({})).toThrow(
      /LAMBERNETES_TABLE is not set.*LAMBERNETES_RETRY_QUEUE_URL is not set.*LAMBERNETES_DEAD_LETTER_QUEUE_URL is not set/,
    );
    expect(() => controlFunctionHandler('no-such-function')).toThrow(
      'no control function named no-such-function',
    );
  });
});

describe('the cloud function configuration', () => {
  const base = {
    LAMBERNETES_TABLE: 't',
    LAMBERNETES_RETRY_QUEUE_URL: 'r',
    LAMBERNETES_DEAD_LETTER_QUEUE_URL: 'd',
  };

  it('is absent without a worker group, and complete with one', () => {
    expect(loadControlConfig(base).cloud).toBeUndefined();
    const config = loadControlConfig({
      ...base,
      LAMBERNETES_WORKER_GROUP: 'workers',
      LAMBERNETES_WORKER_INSTANCE_TYPE: 't4g.small',
      LAMBERNETES_CLUSTER_CIDR: '100.64.0.0/10',
      LAMBERNETES_VPC_ID: 'vpc-1',
    });
    expect(config.cloud).toEqual({
      groupName: 'workers',
      instanceType: 't4g.small',
      clusterCidr: '100.64.0.0/10',
      routeTables: { vpcId: 'vpc-1' },
      scaleDownAfterMs: 600_000,
    });
  });

  it('names what a worker group needs besides its name', () => {
    expect(() =>
      loadControlConfig({ ...base, LAMBERNETES_WORKER_GROUP: 'w', LAMBERNETES_SCALE_DOWN_AFTER_MS: '5m' }),
    ).toThrow(
      /LAMBERNETES_WORKER_INSTANCE_TYPE is not set.*LAMBERNETES_CLUSTER_CIDR is not set.*LAMBERNETES_VPC_ID is not set.*LAMBERNETES_SCALE_DOWN_AFTER_MS must be a whole number/,
    );
  });
});
