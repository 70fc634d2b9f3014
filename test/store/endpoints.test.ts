import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.js';
import { localCredentials } from '../../shared/local/dynamodb-local.js';
import { Store } from '../../shared/store/store.js';
import { createTable } from '../../shared/store/table.js';
import { dynamoEndpoint } from '../support/dynamo.js';

describe('where the store reaches DynamoDB', () => {
  const saved = process.env.AWS_ENDPOINT_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = saved;
  });

  it('follows AWS_ENDPOINT_URL with a client configured with nothing but a region', async () => {
    process.env.AWS_ENDPOINT_URL = dynamoEndpoint;
    const client = new DynamoDBClient({ region: 'us-east-1', credentials: localCredentials });
    await createTable(client, 'endpoint-from-env');
    const store = Store.of(client, 'endpoint-from-env');
    const key = { resource: 'namespaces', name: 'via-env' };
    await store.create(key, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'via-env' } });
    expect((await store.get(key)).metadata.name).toBe('via-env');
  });

  it('turns DynamoDB throttling into 429 TooManyRequests with a retry hint', async () => {
    // DynamoDB Local never throttles, so this one case uses a mocked client.
    const client = new DynamoDBClient({ region: 'us-east-1', credentials: localCredentials });
    const mock = mockClient(DynamoDBDocumentClient);
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
      name: 'ThrottlingException',
    });
    mock.on(UpdateCommand).rejects(throttled);
    try {
      const store = Store.of(client, 'any');
      const error = await store
        .create({ resource: 'namespaces', name: 'x' }, { metadata: { name: 'x' } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).toStatus()).toMatchObject({
        code: 429,
        reason: 'TooManyRequests',
        details: { retryAfterSeconds: 1 },
      });
    } finally {
      mock.restore();
    }
  });
});
