import { FilterCriteria, FilterRule } from 'aws-cdk-lib/aws-lambda';
import type { NodeQueues } from '../functions/notifier/queues.js';
import { controlFunctions } from '../functions/registry.js';
import { objectPartition } from '../shared/store/keys.js';
import type { Store } from '../shared/store/store.js';

/** The names of the control functions and, for each, the resources its controllers' triggers watch. */
export function triggerResources(): Map<string, string[]> {
  // Only the controllers' trigger lists are read: nothing runs, so neither a store nor queues are needed
  // (the notifier is listed only when node queues are given).
  const functions = controlFunctions({} as Store, {}, {} as NodeQueues);
  return new Map(
    functions.map((f) => [
      f.name,
      [...new Set(f.controllers.flatMap((c) => c.triggers.map((t) => t.resource)))].sort(),
    ]),
  );
}

/**
 * The stream filter of a function: records of live objects (partition `o#<resource>`) of the resources
 * its controllers watch. The runtime ignores every other record (history, the revision counter, other
 * resources), so filtering them out saves invocations without changing behaviour. Chunk items of large
 * bodies still pass (their partition is the object's); the runtime skips them.
 */
export function streamFilter(resources: readonly string[]) {
  return FilterCriteria.filter({
    dynamodb: { Keys: { pk: { S: FilterRule.or(...resources.map(objectPartition)) } } },
  });
}
