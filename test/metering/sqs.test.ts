/**
 * SQS metering against fauxqs: each call is one request, and SQS bills one request per started 64 KB of
 * the messages it carries, as counted here by hand.
 */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { expect, it } from 'vitest';
import { localSqsClient, startLocalSqs } from '../../shared/local/sqs.js';
import { Meter } from '../../shared/metering/meter.js';
import { meterSqs } from '../../shared/metering/sqs.js';

it('counts each SQS call, and a billed request per started 64 KB of its messages', async () => {
  const sqs = await startLocalSqs();
  const client = localSqsClient(sqs.endpoint);
  try {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'metered' }));
    const meter = new Meter();
    meterSqs(client, meter);
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(100 * 1024) })); // 2
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'small' },
          { Id: 'b', MessageBody: 'y'.repeat(64 * 1024) },
        ],
      }),
    ); // 64 KB and 5 bytes: 2
    const received = await client.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    ); // one message of 100 KB, or of 64 KB, or of 5 bytes
    const bytes = Buffer.byteLength(received.Messages?.[0]?.Body ?? '');
    await client.send(
      new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received.Messages?.[0]?.ReceiptHandle }),
    ); // 1
    expect(meter.snapshot()).toEqual({
      sqs: {
        SendMessage: { requests: 1, billedRequests: 2 },
        SendMessageBatch: { requests: 1, billedRequests: 2 },
        ReceiveMessage: { requests: 1, billedRequests: Math.max(1, Math.ceil(bytes / 65536)) },
        DeleteMessage: { requests: 1, billedRequests: 1 },
      },
    });
    expect(bytes).toBeGreaterThan(0);
  } finally {
    client.destroy();
    await sqs.stop();
  }
});

it("counts Lambda's event source apart, leaving out its receives that came back empty", async () => {
  const sqs = await startLocalSqs();
  const client = localSqsClient(sqs.endpoint);
  try {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'retries' }));
    const meter = new Meter();
    meterSqs(client, meter, { prefix: 'eventSource.', eventSource: true });
    const receive = () =>
      client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((await receive()).Messages ?? []).toHaveLength(0); // empty: priced per queue, not here
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'work' }));
    const received = await receive();
    expect(received.Messages).toHaveLength(1);
    await client.send(
      new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received.Messages?.[0]?.ReceiptHandle }),
    );
    expect(meter.snapshot()).toEqual({
      sqs: {
        'eventSource.SendMessage': { requests: 1, billedRequests: 1 },
        'eventSource.ReceiveMessage': { requests: 1, billedRequests: 1 },
        'eventSource.DeleteMessage': { requests: 1, billedRequests: 1 },
      },
    });
  } finally {
    client.destroy();
    await sqs.stop();
  }
});
