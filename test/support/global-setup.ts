import type { TestProject } from 'vitest/node';
import { type DynamoDBLocal, startDynamoDBLocal } from '../../shared/local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoints: string[];
  }
}

/**
 * Four DynamoDB Locals for each project's run; the test files take them in turn
 * (test/support/dynamo.ts) and make their own tables. Not one: DynamoDB Local keeps every table's
 * stream records in one store, even after the table is deleted, and each GetRecords, on any stream,
 * takes longer the more there are (measured: 5 ms fresh, 36 ms after 20,000 records of other tables).
 * With one instance the stream-driven suites late in a run were several times slower (the control-plane
 * project took 36 minutes instead of 7) and timed out.
 */
export default async function setup(project: TestProject) {
  const count = 4;
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
