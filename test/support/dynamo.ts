import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { inProcessClient } from '../../functions/runtime/in-process.js';
import { resourceType } from '../../shared/api/resources.js';
import { localCredentials } from '../../shared/local/dynamodb-local.js';
import { storeTable } from '../../shared/store/dynamo.js';
import { RevisionLog } from '../../shared/store/log.js';
import { Store, type StoreOptions } from '../../shared/store/store.js';
import { createTable } from '../../shared/store/table.js';

/**
 * The run's DynamoDB Local this test file uses: the files take them in turn (see global-setup.ts),
 * counted by vitest's worker id, one per file.
 */
export const dynamoEndpoint = ((endpoints) =>
  endpoints[Number(process.env.VITEST_WORKER_ID ?? 0) % endpoints.length] as string)(
  inject('dynamoEndpoints'),
);

export function testClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: dynamoEndpoint,
    region: 'us-east-1',
    credentials: localCredentials,
  });
}

/** A new, empty store table on the run's DynamoDB Local. */
export async function freshTable(client: DynamoDBClient): Promise<string> {
  const tableName = `t-${randomUUID()}`;
  await createTable(client, tableName);
  return tableName;
}

/** A store on a fresh table, with the log underneath for tests that check the history itself. */
export async function freshStore(options: StoreOptions = {}) {
  const client = testClient();
  const tableName = await freshTable(client);
  const table = storeTable(client, tableName);
  const holeDeadlineMs = options.holeDeadlineMs ?? 1000;
  return {
    client,
    tableName,
    table,
    store: new Store(table, { holeDeadlineMs }),
    log: new RevisionLog(table, holeDeadlineMs),
  };
}

/**
 * Makes `user` a cluster admin (a ClusterRoleBinding to cluster-admin), for suites whose controllers
 * are test doubles acting as `system:<component>` with no role of their own.
 */
export async function grantClusterAdmin(store: Store, user: string): Promise<void> {
  const admin = inProcessClient(store, { name: 'admin', groups: ['system:masters'] });
  await admin.create(resourceType('clusterrolebindings.rbac.authorization.k8s.io'), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `test:${user.replaceAll(':', '-')}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
  } as never);
}
