import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** A key a controller must look at again. `attempt` counts failures in a row (0 for a requeue). */
export interface WorkItem {
  controller: string;
  key: string;
  attempt: number;
  /** Not before this time (ms since the epoch): SQS delays at most 15 minutes. */
  notBefore?: number;
}

export interface RetryQueue {
  send(item: WorkItem, delayMs: number): Promise<void>;
  /** Gives up on an item: it goes to the dead-letter queue with the last error, for an operator. */
  deadLetter(item: WorkItem, error: unknown): Promise<void>;
}

/** SQS's longest message delay. */
export const maxDelayMs = 900_000;

/** Exponential backoff per key: 1 s, 2 s, 4 s … up to 15 minutes, with jitter against herds. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** attempt, maxDelayMs);
  return Math.round(base * (0.75 + random() * 0.25));
}

/**
 * The retry queue as an SQS queue: the same code against AWS and a local SQS endpoint. Messages that
 * cannot be handled at all (not work items) reach `deadLetterUrl` through the queue's redrive policy.
 */
export function sqsRetryQueue(client: SQSClient, queueUrl: string, deadLetterUrl: string): RetryQueue {
  return {
    async deadLetter(item, error) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: deadLetterUrl,
          MessageBody: JSON.stringify({
            ...item,
            error: error instanceof Error ? error.message : String(error),
          }),
        }),
      );
    },
    async send(item, delayMs) {
      const delay = Math.max(0, delayMs);
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(delay > maxDelayMs ? { ...item, notBefore: Date.now() + delay } : item),
          DelaySeconds: Math.ceil(Math.min(delay, maxDelayMs) / 1000),
        }),
      );
    },
  };
}

/** A message body back into a work item; `undefined` when it is not one (it goes to the DLQ). */
export function parseWorkItem(body: string): WorkItem | undefined {
  try {
    const value = JSON.parse(body) as Partial<WorkItem>;
    if (typeof value.controller !== 'string' || typeof value.key !== 'string') return undefined;
    if (typeof value.attempt !== 'number' || !Number.isInteger(value.attempt) || value.attempt < 0)
      return undefined;
    return {
      controller: value.controller,
      key: value.key,
      attempt: value.attempt,
      ...(typeof value.notBefore === 'number' ? { notBefore: value.notBefore } : {}),
    };
  } catch {
    return undefined;
  }
}
