/**
 * DynamoDB metering against DynamoDB Local: a hand-counted series of calls, each priced by DynamoDB's
 * rules (a write unit per 1 KB written, a read unit per 4 KB read strongly consistent, half of one
 * eventually consistent, transactions twice), must meter exactly that; and the store's own operations
 * are counted under their names.
 */
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { meterDynamoDB } from '../../shared/metering/dynamodb.js';
import { Meter } from '../../shared/metering/meter.js';
import { storeTable } from '../../shared/store/dynamo.js';
import { Store } from '../../shared/store/store.js';
import { freshTable, testClient } from '../support/dynamo.js';

const configMap = (name: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
  data: { a: 'b' },
});

describe('DynamoDB metering', () => {
  it('counts the units DynamoDB bills for each call, as counted by hand', async () => {
    const client = testClient();
    const TableName = await freshTable(client);
    const meter = new Meter();
    meterDynamoDB(client, meter, { dynamoDBLocal: true });
    const doc = DynamoDBDocumentClient.from(client);
    const small = (sk: string) => ({ pk: 'p', sk, v: 'x' });

    await doc.send(new PutCommand({ TableName, Item: small('a') })); // 1 write unit
    await doc.send(new PutCommand({ TableName, Item: { pk: 'p', sk: 'big', v: 'x'.repeat(2500) } })); // 3
    await doc.send(new GetCommand({ TableName, Key: { pk: 'p', sk: 'a' }, ConsistentRead: true })); // 1 read
    await doc.send(new GetCommand({ TableName, Key: { pk: 'p', sk: 'a' } })); // 0.5
    await doc.send(
      new UpdateCommand({
        TableName,
        Key: { pk: 'p', sk: 'a' },
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': 'y' },
      }),
    ); // 1 write unit
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [{ Put: { TableName, Item: small('b') } }, { Put: { TableName, Item: small('c') } }],
      }),
    ); // 2 items, twice: 4 write units
    await doc.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :p AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':p': 'p', ':from': 'a', ':to': 'c' },
        ConsistentRead: true,
      }),
    ); // a, b and c (not big): under 4 KB together, 1 read unit
    await doc.send(
      new BatchGetCommand({
        RequestItems: {
          [TableName]: {
            Keys: [
              { pk: 'p', sk: 'a' },
              { pk: 'p', sk: 'b' },
            ],
            ConsistentRead: true,
          },
        },
      }),
    ); // each item on its own: 2 read units
    await expect(
      doc.send(
        new PutCommand({ TableName, Item: small('a'), ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    ).rejects.toThrow();

    expect(meter.snapshot()).toEqual({
      dynamodb: {
        PutItem: { requests: 3, readUnits: 0, writeUnits: 4, refused: 1 },
        GetItem: { requests: 2, readUnits: 1.5, writeUnits: 0 },
        UpdateItem: { requests: 1, readUnits: 0, writeUnits: 1 },
        TransactWriteItems: { requests: 1, readUnits: 0, writeUnits: 4 },
        Query: { requests: 1, readUnits: 1, writeUnits: 0 },
        BatchGetItem: { requests: 1, readUnits: 2, writeUnits: 0 },
      },
    });
  });

  it('counts the store’s calls under the store operation that made them', async () => {
    const client = testClient();
    const tableName = await freshTable(client);
    const meter = new Meter();
    meterDynamoDB(client, meter, { dynamoDBLocal: true });
    const store = new Store(storeTable(client, tableName));
    const key = { resource: 'configmaps', namespace: 'default', name: 'one' };

    await store.create(key, configMap('one'));
    const created = meter.snapshot().dynamodb ?? {};
    // A revision from the counter (one update), then the object and its history entry in one
    // transaction: two small items, twice.
    expect(created).toEqual({
      'create.UpdateItem': { requests: 1, readUnits: 0, writeUnits: 1 },
      'create.TransactWriteItems': { requests: 1, readUnits: 0, writeUnits: 4 },
    });

    meter.reset();
    await store.get(key);
    expect(Object.keys(meter.snapshot().dynamodb ?? {}).every((name) => name.startsWith('get.'))).toBe(true);
  });
});
