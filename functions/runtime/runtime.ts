import type { DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ApiError, StatusReason } from '../../shared/api/errors.js';
import { objectChangeOf } from '../../shared/store/changes.js';
import type { Controller, ControllerContext } from './controller.js';
import { backoffMs, parseWorkItem, type RetryQueue, type WorkItem } from './retry-queue.js';

export interface ControllerRuntimeOptions {
  controllers: readonly Controller[];
  context: ControllerContext;
  retryQueue: RetryQueue;
  /** Reconciles in flight at once within one invocation. Default 8. */
  concurrency?: number;
  /** Failures in a row before a key goes to the dead-letter queue. Default 12 (about an hour of backoff). */
  maxAttempts?: number;
  logError?: (error: unknown, item?: WorkItem) => void;
}

/**
 * Runs controllers the way their Lambda functions are invoked: with a batch of table stream records,
 * with a batch of retry-queue messages, or on a schedule. A reconcile that fails or asks to be
 * requeued goes to the retry queue with its delay; nothing is retried in a tight loop.
 */
export class ControllerRuntime {
  private readonly byName: Map<string, Controller>;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly logError: (error: unknown, item?: WorkItem) => void;

  constructor(private readonly options: ControllerRuntimeOptions) {
    this.byName = new Map(options.controllers.map((c) => [c.name, c]));
    this.concurrency = options.concurrency ?? 8;
    this.maxAttempts = options.maxAttempts ?? 12;
    this.logError = options.logError ?? ((error, item) => console.error('reconcile failed', item, error));
  }

  /** A table stream batch: every key the changes point at, each reconciled once. */
  readonly handleStream = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const items = new Map<string, WorkItem>();
    for (const record of event.Records) {
      const change = objectChangeOf(record);
      if (!change) continue;
      for (const controller of this.options.controllers) {
        for (const trigger of controller.triggers) {
          if (trigger.resource !== change.key.resource) continue;
          for (const key of trigger.keys(change)) {
            items.set(`${controller.name}\0${key}`, { controller: controller.name, key, attempt: 0 });
          }
        }
      }
    }
    // A failure here (the retry queue refused a message) fails the batch: the stream delivers it again.
    await this.runAll([...items.values()]);
    return { batchItemFailures: [] };
  };

  /** A batch of retry-queue messages; the ones that could not be handed on are reported as failures. */
  readonly handleQueue = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    await this.forEach(event.Records, async (message) => {
      const item = parseWorkItem(message.body);
      try {
        if (!item || !this.byName.has(item.controller)) throw new Error(`not a work item: ${message.body}`);
        const wait = (item.notBefore ?? 0) - this.options.context.now().getTime();
        if (wait > 0) await this.options.retryQueue.send(item, wait);
        else await this.runOne(item);
      } catch (error) {
        this.logError(error, item);
        failures.push({ itemIdentifier: message.messageId });
      }
    });
    await this.options.context.events.flush();
    return { batchItemFailures: failures };
  };

  /** The schedule: each controller's periodic keys (all of them, or those of the named controllers). */
  async resync(names?: readonly string[]): Promise<void> {
    const items: WorkItem[] = [];
    for (const controller of this.options.controllers) {
      if (!controller.resync || (names && !names.includes(controller.name))) continue;
      for (const key of await controller.resync.keys(this.options.context)) {
        items.push({ controller: controller.name, key, attempt: 0 });
      }
    }
    await this.runAll(items);
  }

  /** Reconciles one key now; what it asks for next goes to the retry queue. */
  private async runOne(item: WorkItem): Promise<void> {
    const controller = this.byName.get(item.controller);
    if (!controller) throw new Error(`no controller named ${item.controller}`);
    let result: Awaited<ReturnType<Controller['reconcile']>>;
    try {
      result = await controller.reconcile(item.key, this.options.context);
    } catch (error) {
      // A lost compare-and-swap is routine without a leader: retried, not reported.
      if (!(error instanceof ApiError && error.reason === StatusReason.Conflict)) this.logError(error, item);
      if (item.attempt + 1 >= this.maxAttempts) await this.options.retryQueue.deadLetter(item, error);
      else
        await this.options.retryQueue.send({ ...item, attempt: item.attempt + 1 }, backoffMs(item.attempt));
      return;
    }
    if (result?.requeueAfterMs !== undefined) {
      await this.options.retryQueue.send(
        { controller: item.controller, key: item.key, attempt: 0 },
        result.requeueAfterMs,
      );
    }
  }

  private async runAll(items: readonly WorkItem[]): Promise<void> {
    const errors: unknown[] = [];
    await this.forEach(items, (item) => this.runOne(item).catch((error: unknown) => void errors.push(error)));
    await this.options.context.events.flush();
    if (errors.length > 0)
      throw new AggregateError(errors, `${errors.length} work items could not be handed on`);
  }

  private async forEach<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await work(items[next++] as T);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
  }
}
