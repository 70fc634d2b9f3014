import { setTimeout as sleep } from 'node:timers/promises';
import type { AttributeValue, CancellationReason, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tooManyRequests } from '../api/errors.js';

/**
 * The DynamoDB dialect: the only module that sends requests to DynamoDB or sees its exceptions.
 * Conditional failures come back as values (`false`, a cancelled outcome); everything else throws.
 */

export type Item = Record<string, unknown>;
export type Key = { pk: string; sk: string };
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface StoreTable {
  readonly doc: DynamoDBDocumentClient;
  readonly name: string;
}

/**
 * The store's table through a client for AWS, LocalStack or DynamoDB Local (the SDK itself honours
 * `AWS_ENDPOINT_URL`, so the same code reaches any of them).
 */
export function storeTable(client: DynamoDBClient, name: string): StoreTable {
  return { doc: DynamoDBDocumentClient.from(client), name };
}

/** Why one item of a cancelled transaction failed, with the item as it was when it did. */
export interface CancelledItem {
  code: string;
  item?: Item;
}

export type TransactOutcome = { committed: true } | { committed: false; reasons: CancelledItem[] };

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

const throttles = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);

/** Sends a command; throttling that outlasted the SDK's own retries becomes 429 TooManyRequests. */
async function send<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof Error && throttles.has(error.name)) {
      throw tooManyRequests('the store is throttled, please retry', 1);
    }
    throw error;
  }
}

function cancelledItem(reason: CancellationReason): CancelledItem {
  const item = reason.Item as Record<string, AttributeValue> | undefined;
  return { code: reason.Code ?? 'None', ...(item ? { item: unmarshall(item) } : {}) };
}

export async function transactWrite(table: StoreTable, items: TransactItem[]): Promise<TransactOutcome> {
  try {
    await send(() => table.doc.send(new TransactWriteCommand({ TransactItems: items })));
    return { committed: true };
  } catch (error) {
    if (!isNamed(error, 'TransactionCanceledException')) throw error;
    const reasons = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
    return { committed: false, reasons: reasons.map(cancelledItem) };
  }
}

/** Puts the item unless its key exists; `false` when it did. */
export async function putIfAbsent(table: StoreTable, item: Item & Key): Promise<boolean> {
  try {
    await send(() =>
      table.doc.send(
        new PutCommand({
          TableName: table.name,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return true;
  } catch (error) {
    if (isNamed(error, 'ConditionalCheckFailedException')) return false;
    throw error;
  }
}

/** An update whose condition may fail; `false` when it did. */
export async function updateIf(
  table: StoreTable,
  input: Omit<UpdateCommandInput, 'TableName'>,
): Promise<boolean> {
  try {
    await send(() => table.doc.send(new UpdateCommand({ TableName: table.name, ...input })));
    return true;
  } catch (error) {
    if (isNamed(error, 'ConditionalCheckFailedException')) return false;
    throw error;
  }
}

export async function update(
  table: StoreTable,
  input: Omit<UpdateCommandInput, 'TableName'>,
): Promise<Item | undefined> {
  const out = await send(() => table.doc.send(new UpdateCommand({ TableName: table.name, ...input })));
  return out.Attributes;
}

export async function getItem(table: StoreTable, key: Key): Promise<Item | undefined> {
  const out = await send(() =>
    table.doc.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })),
  );
  return out.Item;
}

/** Strongly consistent reads of many keys (any number), retrying unprocessed keys with backoff. */
export async function batchGet(
  table: StoreTable,
  keys: readonly Key[],
  projection?: string,
): Promise<Item[]> {
  const found: Item[] = [];
  for (let start = 0; start < keys.length; start += 100) {
    let pending: Key[] = keys.slice(start, start + 100);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(1000, 10 * 2 ** attempt));
      const out = await send(() =>
        table.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [table.name]: {
                Keys: pending,
                ConsistentRead: true,
                ...(projection ? { ProjectionExpression: projection } : {}),
              },
            },
          }),
        ),
      );
      found.push(...(out.Responses?.[table.name] ?? []));
      pending = (out.UnprocessedKeys?.[table.name]?.Keys as Key[] | undefined) ?? [];
    }
  }
  return found;
}

/** Deletes many keys, 25 per request, retrying unprocessed ones with backoff. */
export async function batchDelete(table: StoreTable, keys: readonly Key[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 25) {
    let pending = keys.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(1000, 10 * 2 ** attempt));
      const out = await send(() =>
        table.doc.send(new BatchWriteCommand({ RequestItems: { [table.name]: pending } })),
      );
      pending = (out.UnprocessedItems?.[table.name] as typeof pending | undefined) ?? [];
    }
  }
}

/** Every item of a strongly consistent query, page by page, in sort-key order. */
export async function* query(
  table: StoreTable,
  input: Omit<QueryCommandInput, 'TableName' | 'ConsistentRead'>,
): AsyncGenerator<Item> {
  let exclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await send(() =>
      table.doc.send(
        new QueryCommand({
          TableName: table.name,
          ConsistentRead: true,
          ...input,
          ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
        }),
      ),
    );
    yield* out.Items ?? [];
    exclusiveStartKey = out.LastEvaluatedKey;
  } while (exclusiveStartKey);
}
