/**
 * DynamoDB metering: a middleware on a DynamoDBClient (and so on every DocumentClient made from it)
 * asks each call for `ReturnConsumedCapacity: TOTAL`, free on AWS, and adds what DynamoDB says it
 * consumed to the Meter, under the store operation that made the call (`storeOperation`) and the
 * DynamoDB action: `list.Query`, `create.TransactWriteItems`, or `GetItem` outside any.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { actionOf, type Meter } from './meter.js';

/** The actions that take ReturnConsumedCapacity (DescribeTable, CreateTable and the like do not). */
const capacityActions = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

const storeOperations = new AsyncLocalStorage<string>();

/**
 * Runs `work` with its DynamoDB calls counted under `operation` (a store method: get, list, …), unless
 * it runs inside another operation, which they then count under.
 */
export function storeOperation<T>(operation: string, work: () => Promise<T>): Promise<T> {
  return storeOperations.getStore() === undefined ? storeOperations.run(operation, work) : work();
}

/** The generator's DynamoDB calls counted under `operation`, each step of it. */
export async function* meteredAs<T>(operation: string, steps: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    for (;;) {
      const step = await storeOperation(operation, () => steps.next());
      if (step.done) return;
      yield step.value;
    }
  } finally {
    await steps.return(undefined);
  }
}

/**
 * Read and write units of a response's ConsumedCapacity (one entry, or one per table). TOTAL splits
 * them where an action does both (transactions); an action that only reads or only writes may give just
 * `CapacityUnits`, which `readAction` then says the kind of.
 */
function consumedUnits(
  consumed: ConsumedCapacity | ConsumedCapacity[] | undefined,
  readAction: boolean,
): { readUnits: number; writeUnits: number } {
  let readUnits = 0;
  let writeUnits = 0;
  for (const entry of consumed === undefined ? [] : [consumed].flat()) {
    const read = entry.ReadCapacityUnits ?? 0;
    const write = entry.WriteCapacityUnits ?? 0;
    if (read + write > 0) {
      readUnits += read;
      writeUnits += write;
    } else if (readAction) readUnits += entry.CapacityUnits ?? 0;
    else writeUnits += entry.CapacityUnits ?? 0;
  }
  return { readUnits, writeUnits };
}

const readActions = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

const transactActions = new Set(['TransactGetItems', 'TransactWriteItems']);

export interface DynamoDBMeterOptions {
  /**
   * The client talks to DynamoDB Local, which reports a transaction's units at the standard rate; AWS
   * bills (and reports) them twice over, so they are doubled here.
   */
  dynamoDBLocal?: boolean;
}

/** Counts every call `client` makes (and every DocumentClient made from it) on `meter`. */
export function meterDynamoDB(
  client: DynamoDBClient,
  meter: Meter,
  options: DynamoDBMeterOptions = {},
): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const action = actionOf(context);
      const input = args.input as { ReturnConsumedCapacity?: string };
      if (capacityActions.has(action)) input.ReturnConsumedCapacity ??= 'TOTAL';
      const operation = storeOperations.getStore();
      const name = operation ? `${operation}.${action}` : action;
      try {
        const result = await next(args);
        const output = result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] };
        const units = consumedUnits(output.ConsumedCapacity, readActions.has(action));
        const factor = options.dynamoDBLocal && transactActions.has(action) ? 2 : 1;
        meter.add('dynamodb', name, {
          requests: 1,
          readUnits: units.readUnits * factor,
          writeUnits: units.writeUnits * factor,
        });
        return result;
      } catch (error) {
        // A refused condition is billed as the write would have been, but the error carries no
        // consumed capacity: counted apart, for the cost model to price.
        const refused =
          error instanceof Error &&
          (error.name === 'ConditionalCheckFailedException' || error.name === 'TransactionCanceledException');
        meter.add('dynamodb', name, { requests: 1, [refused ? 'refused' : 'errors']: 1 });
        throw error;
      }
    },
    { step: 'initialize', name: 'lambernetesMeter', override: true },
  );
}
