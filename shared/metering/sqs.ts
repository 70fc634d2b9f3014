/**
 * SQS metering: a middleware on an SQSClient counts each action, and the requests SQS bills for it:
 * one per started 64 KB of the messages it carries (sent, or received), at least one.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { actionOf, type Meter } from './meter.js';

const chunkBytes = 64 * 1024;

interface Message {
  MessageBody?: string;
  Body?: string;
}

/** The bytes of message bodies an action carries (attributes are small here and left out). */
function payloadBytes(action: string, input: unknown, output: unknown): number {
  const bodies = (messages: Message[] | undefined) =>
    (messages ?? []).reduce((sum, m) => sum + Buffer.byteLength(m.MessageBody ?? m.Body ?? ''), 0);
  if (action === 'SendMessage') return bodies([input as Message]);
  if (action === 'SendMessageBatch') return bodies((input as { Entries?: Message[] }).Entries);
  if (action === 'ReceiveMessage') return bodies((output as { Messages?: Message[] }).Messages);
  return 0;
}

/** The requests SQS bills for a call carrying `bytes` of messages. */
function billedRequests(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / chunkBytes));
}

export interface SqsMeterOptions {
  /** Put before each action's name: whose calls these are (`agent.ReceiveMessage`). */
  prefix?: string;
  /**
   * The client stands in for Lambda's SQS event source: receives that come back empty are left out,
   * since Lambda's own idle long polling does not depend on how the local runtime polls (the cost
   * model prices it per queue).
   */
  eventSource?: boolean;
}

/** Counts every call `client` makes on `meter`, under its action. */
export function meterSqs(client: SQSClient, meter: Meter, options: SqsMeterOptions = {}): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const action = actionOf(context);
      const result = await next(args);
      const bytes = payloadBytes(action, args.input, result.output);
      const empty =
        action === 'ReceiveMessage' &&
        ((result.output as { Messages?: unknown[] }).Messages ?? []).length === 0;
      if (!(options.eventSource && empty)) {
        meter.add('sqs', `${options.prefix ?? ''}${action}`, {
          requests: 1,
          billedRequests: billedRequests(bytes),
        });
      }
      return result;
    },
    { step: 'initialize', name: 'lambernetesMeter', override: true },
  );
}
