import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  SendMessageCommand,
  type SQSClient,
  TagQueueCommand,
} from '@aws-sdk/client-sqs';
import type { Node } from '../../shared/api/core.js';
import {
  deadLetterQueueName,
  isMissingQueue,
  type NodeNotification,
  nodeQueueName,
} from '../../shared/queues/node-queue.js';
import { instanceIdOf } from '../cloud/provider-id.js';

/**
 * The tag naming the instance a node queue belongs to (its ARN): the workers' role may use only the
 * queues whose tag is its own instance's (`aws:ResourceTag/…` = `${ec2:SourceInstanceARN}`).
 */
export const instanceTag = 'lambernetes.io/instance';

/**
 * The per-node notification queues (SQS I/O only). Queue URLs are remembered once looked up;
 * creation is idempotent (CreateQueue with the same attributes returns the existing queue).
 */
export class NodeQueues {
  private readonly urls = new Map<string, string>();
  /** The instance each queue was last tagged with (by node). */
  private readonly owners = new Map<string, string>();
  private deadLetterArn?: string;

  /**
   * `instanceArnPrefix` (`arn:aws:ec2:<region>:<account>:instance/`, on AWS): queues of nodes on EC2
   * instances are tagged with their instance's ARN.
   */
  constructor(
    private readonly sqs: SQSClient,
    readonly prefix: string,
    private readonly instanceArnPrefix?: string,
  ) {}

  /**
   * The node's queue URL, creating the queue (and the shared dead-letter queue) if needed, and tagging
   * it with the node's instance (again when the instance changed: a new instance may reuse a name).
   */
  async ensure(node: Node): Promise<string> {
    const name = node.metadata.name;
    const instanceId = this.instanceArnPrefix ? instanceIdOf(node) : undefined;
    const owner = instanceId ? `${this.instanceArnPrefix}${instanceId}` : undefined;
    const url = this.urls.get(name) ?? (await this.create(name, owner));
    if (owner && this.owners.get(name) !== owner) {
      await this.sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { [instanceTag]: owner } }));
      this.owners.set(name, owner);
    }
    return url;
  }

  private async create(node: string, owner: string | undefined): Promise<string> {
    const created = await this.sqs.send(
      new CreateQueueCommand({
        QueueName: nodeQueueName(this.prefix, node),
        Attributes: {
          // The agent long-polls; a notification older than an hour is covered by its minute resync.
          ReceiveMessageWaitTimeSeconds: '20',
          VisibilityTimeout: '30',
          MessageRetentionPeriod: '3600',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await this.deadLetter(), maxReceiveCount: 5 }),
        },
        tags: { 'lambernetes.io/node': node.slice(0, 256), ...(owner ? { [instanceTag]: owner } : {}) },
      }),
    );
    if (owner) this.owners.set(node, owner);
    const url = created.QueueUrl as string;
    this.urls.set(node, url);
    return url;
  }

  private async deadLetter(): Promise<string> {
    if (this.deadLetterArn) return this.deadLetterArn;
    const { QueueUrl } = await this.sqs.send(
      new CreateQueueCommand({
        QueueName: deadLetterQueueName(this.prefix),
        Attributes: { MessageRetentionPeriod: '1209600' },
      }),
    );
    const { Attributes } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    this.deadLetterArn = Attributes?.QueueArn as string;
    return this.deadLetterArn;
  }

  /** The node's queue URL if the queue exists. */
  async find(node: string): Promise<string | undefined> {
    const known = this.urls.get(node);
    if (known) return known;
    try {
      const { QueueUrl } = await this.sqs.send(
        new GetQueueUrlCommand({ QueueName: nodeQueueName(this.prefix, node) }),
      );
      if (QueueUrl) this.urls.set(node, QueueUrl);
      return QueueUrl;
    } catch (error) {
      if (isMissingQueue(error)) return undefined;
      throw error;
    }
  }

  /** Deletes the node's queue; nothing if it does not exist. */
  async remove(node: string): Promise<void> {
    const url = await this.find(node);
    this.urls.delete(node);
    this.owners.delete(node);
    if (!url) return;
    await this.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch((error: unknown) => {
      if (!isMissingQueue(error)) throw error;
    });
  }

  /** Tells the node's agent what changed; false if the node has no queue. */
  async notify(node: string, notification: NodeNotification): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const url = await this.find(node);
      if (!url) return false;
      try {
        await this.sqs.send(
          new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(notification) }),
        );
        return true;
      } catch (error) {
        if (!isMissingQueue(error)) throw error;
        this.urls.delete(node); // deleted since it was looked up: look again
      }
    }
    return false;
  }

  /** The URLs of every node queue under this prefix (the dead-letter queue excluded). */
  async list(): Promise<string[]> {
    const urls: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.sqs.send(
        new ListQueuesCommand({ QueueNamePrefix: `${this.prefix}node-`, MaxResults: 1000, NextToken }),
      );
      urls.push(...(page.QueueUrls ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    const dlq = deadLetterQueueName(this.prefix);
    return urls.filter((url) => !url.endsWith(`/${dlq}`));
  }

  /** Deletes a queue by URL (a leftover of a node that is gone). */
  async removeUrl(url: string): Promise<void> {
    for (const [node, known] of this.urls)
      if (known === url) {
        this.urls.delete(node);
        this.owners.delete(node);
      }
    await this.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch((error: unknown) => {
      if (!isMissingQueue(error)) throw error;
    });
  }
}
