import type { TestProject } from 'vitest/node';
import { type DynamoDBLocal, startDynamoDBLocal } from '../../shared/local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoints: string[];
  }
}

/**
 * DynamoDB Locals for the whole run; each test file uses one of them (test/support/dynamo.ts) and
 * makes its own tables. More than one for the control plane's many suites: DynamoDB Local keeps every
 * table's stream records in one store, even after the table is deleted, and each GetRecords, on any
 * stream, takes longer the more there are (measured: 5 ms fresh, 36 ms after 20,000 records of other
 * tables). One instance for a whole run made the stream-driven suites twice as slow by its end.
 */
export default async function setup(project: TestProject) {
  const count = project.name === 'control-plane' ? 4 : 1;
  const started = await Promise.allSettled(Array.from({ length: count }, () => startDynamoDBLocal()));
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = () => Promise.all(running.map((dynamo: DynamoDBLocal) => dynamo.stop()));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  project.provide(
    'dynamoEndpoints',
    running.map((dynamo) => dynamo.endpoint),
  );
  return stop;
}
