import { setTimeout as delay } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import type { ApiClient } from '../../shared/client/client.js';
import { isMissingQueue, parseNotification } from '../../shared/queues/node-queue.js';

const pods = resourceType('pods');

export interface PodSourceOptions {
  client: ApiClient;
  nodeName: string;
  /** The node's notification queue (the notifier creates it when the Node registers). */
  queue: { sqs: SQSClient; name: string; waitSeconds?: number };
  /** A full list of the node's pods this often (upstream's resync: 1 minute). */
  resyncIntervalMs?: number;
  /** A pod `namespace/name` to look at. */
  onPod(key: string): void;
  /** Every pod bound to the node as of a resync: what runs and is not among them is an orphan. */
  onResync(keys: ReadonlySet<string>): void;
  /** Services or EndpointSlices changed (and at every resync): the proxy and DNS list them again. */
  onServices?(): void;
  onError?: (error: unknown) => void;
}

/**
 * Where the agent learns which pods to look at, without an open watch (design.md §5): its own SQS
 * queue, long-polled, fed by the notifier with every change of a pod bound to the node; and a full
 * list by `spec.nodeName` at start and every minute, so a lost or late message only delays work.
 * A message is deleted once handed on: the work it names is level-based and the resync covers a crash.
 */
export function startPodSource(options: PodSourceOptions): { stop(): Promise<void> } {
  const { client, nodeName, queue } = options;
  const onError = options.onError ?? ((error: unknown) => console.error('pod source', error));
  const resyncIntervalMs = options.resyncIntervalMs ?? 60_000;
  const stopped = new AbortController();
  const { signal } = stopped;

  const resync = async () => {
    const list = await client.list<Pod>(pods, { fieldSelector: `spec.nodeName=${nodeName}` });
    const keys = new Set(list.items.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`));
    options.onResync(keys);
    for (const key of keys) options.onPod(key);
    options.onServices?.();
  };

  const resyncing = (async () => {
    while (!signal.aborted) {
      await resync().catch(onError);
      await delay(resyncIntervalMs, undefined, { signal }).catch(() => undefined);
    }
  })();

  const polling = (async () => {
    let url: string | undefined;
    while (!signal.aborted) {
      try {
        url ??= (
          await queue.sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }), { abortSignal: signal })
        ).QueueUrl;
        const { Messages: messages = [] } = await queue.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: queue.waitSeconds ?? 20,
          }),
          { abortSignal: signal },
        );
        // What is not a notification is dropped (deleting it keeps it from coming back).
        for (const notification of messages.map((m) => parseNotification(m.Body))) {
          if (notification && 'services' in notification) options.onServices?.();
          else if (notification) options.onPod(`${notification.namespace}/${notification.name}`);
        }
        if (messages.length > 0) {
          await queue.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: url,
              Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
            }),
          );
        }
      } catch (error) {
        if (signal.aborted) return;
        // The queue is not there yet (the Node just registered) or SQS failed: try again shortly.
        if (!isMissingQueue(error)) onError(error);
        url = undefined;
        await delay(1000, undefined, { signal }).catch(() => undefined);
      }
    }
  })();

  return {
    stop: async () => {
      stopped.abort();
      await Promise.all([resyncing, polling]);
    },
  };
}
