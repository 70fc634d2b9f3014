import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/**
 * The one definition of the store's table: keys, stream and TTL. The store, the local runtime and the
 * CDK stack all build the table from these constants, so they cannot drift.
 *
 * Every item has a string partition key `pk` and sort key `sk`:
 * - live objects: pk `o#<resource>`, sk `<namespace>/<name>` (or `<name>` when cluster-scoped), so a get
 *   is one GetItem, a namespaced list one Query on `begins_with(sk, '<namespace>/')` and a
 *   cluster-wide list one Query on the partition (ADR 0001 explains why no index is needed);
 * - history: pk `h#<revision>`, sk `h`, one partition per revision;
 * - the revision counter and compaction marks: pk `meta`, sk `meta`.
 * Bodies too large for one item continue in chunk items at sk `<sk>\u0000<i>`, which sort right after
 * their parent.
 */
export const tableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB deletes expired items some time later (garbage collection only). */
  timeToLiveAttribute: 'ttl',
  streamViewType: 'NEW_AND_OLD_IMAGES',
} as const;

export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: tableSchema.partitionKey, AttributeType: 'S' },
      { AttributeName: tableSchema.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: tableSchema.partitionKey, KeyType: 'HASH' },
      { AttributeName: tableSchema.sortKey, KeyType: 'RANGE' },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: tableSchema.streamViewType },
  };
}

/** Creates the table (for local runs and tests; on AWS the CDK stack owns it). */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: tableSchema.timeToLiveAttribute },
    }),
  );
}
