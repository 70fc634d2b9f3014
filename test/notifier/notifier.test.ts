import {
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceTag, NodeQueues } from '../../functions/notifier/queues.js';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { localNodeQueuePrefix } from '../../shared/local/cluster.js';
import { localSqsClient } from '../../shared/local/sqs.js';
import { nodeQueueName } from '../../shared/queues/node-queue.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { until } from '../support/wait.js';

const nodes = resourceType('nodes');
const pods = resourceType('pods');

describe('node queue names', () => {
  it('keep to what SQS allows, and stay unique when shortened', () => {
    expect(nodeQueueName('lk-', 'ip-10-0-1-5.ec2.internal')).toBe('lk-node-ip-10-0-1-5_ec2_internal');
    const long = `${'a'.repeat(100)}.example`;
    const other = `${'a'.repeat(100)}.example2`;
    expect(nodeQueueName('lk-', long)).toHaveLength(80);
    expect(nodeQueueName('lk-', long)).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(nodeQueueName('lk-', long)).not.toBe(nodeQueueName('lk-', other));
  });
});

describe('the notifier: pod changes reach the queue of their node', () => {
  let cluster: TestCluster;
  let sqs: SQSClient;
  const queueOf = async (node: string) => {
    try {
      const { QueueUrl } = await sqs.send(
        new GetQueueUrlCommand({ QueueName: nodeQueueName(localNodeQueuePrefix, node) }),
      );
      return QueueUrl;
    } catch {
      return undefined;
    }
  };
  const receive = async (url: string) => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
    );
    return Messages.map((m) => JSON.parse(m.Body as string) as { namespace?: string; name?: string });
  };

  beforeAll(async () => {
    cluster = await startTestCluster({ notifier: true });
    sqs = localSqsClient(cluster.sqsEndpoint as string);
  });
  afterAll(async () => {
    sqs?.destroy();
    await cluster?.stop();
  });

  it('creates a queue when a Node registers, notifies binds and deletions, and deletes the queue with the Node', async () => {
    await cluster.client.create<Node>(nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1.local' },
    });
    const url = await until('the node queue', () => queueOf('n1.local'), 20_000);

    await cluster.client.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: { nodeName: 'n1.local', containers: [{ name: 'c', image: 'busybox' }] },
    });
    const created = await until('the notification', async () => {
      const messages = await receive(url);
      return messages.length > 0 ? messages : undefined;
    });
    expect(created).toContainEqual({ namespace: 'default', name: 'p' });

    // A pod on another node is not this node's business.
    await cluster.client.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'elsewhere', namespace: 'default' },
      spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'busybox' }] },
    });
    await cluster.client.delete(pods, 'default', 'p', { gracePeriodSeconds: 0 });
    const later = await until('the deletion', async () => {
      const messages = await receive(url);
      return messages.some((m) => m.name === 'p') ? messages : undefined;
    });
    expect(later.map((m) => m.name)).not.toContain('elsewhere');

    // A Service (or EndpointSlice) change reaches every node: its proxy and DNS list them again.
    await cluster.client.create(resourceType('services'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    });
    await until('the services notification', async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }),
      );
      return Messages.some((m) => m.Body === '{"services":true}') ? true : undefined;
    });

    await cluster.client.delete(nodes, undefined, 'n1.local');
    await until('the queue is deleted', async () => ((await queueOf('n1.local')) ? undefined : true), 20_000);
  });
});

describe('node queues of EC2 instances', () => {
  it("are tagged with their node's instance ARN, again when the node moves to another instance", async () => {
    const fauxqs = await startFauxqs({ port: 0, logger: false });
    const sqs = localSqsClient(fauxqs.address);
    try {
      const arnPrefix = 'arn:aws:ec2:eu-west-1:123456789012:instance/';
      const queues = new NodeQueues(sqs, 'tags-', arnPrefix);
      const onInstance = (instanceId: string): Node => ({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'ip-10-0-1-5.ec2.internal' },
        spec: { providerID: `aws:///eu-west-1a/${instanceId}` },
      });
      const tagsOf = async (url: string) =>
        (await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags;

      const url = await queues.ensure(onInstance('i-0aaa'));
      expect(await tagsOf(url)).toMatchObject({
        'lambernetes.io/node': 'ip-10-0-1-5.ec2.internal',
        [instanceTag]: `${arnPrefix}i-0aaa`,
      });
      // The same name on a new instance: the tag follows, so only the new instance may read the queue.
      expect(await queues.ensure(onInstance('i-0bbb'))).toBe(url);
      expect(await tagsOf(url)).toMatchObject({ [instanceTag]: `${arnPrefix}i-0bbb` });
      // A node without an AWS provider ID (or queues without the prefix, off AWS) gets no instance tag.
      const local = await new NodeQueues(sqs, 'plain-').ensure(onInstance('i-0ccc'));
      expect(await tagsOf(local)).not.toHaveProperty(instanceTag);
    } finally {
      sqs.destroy();
      await fauxqs.stop();
    }
  });
});
