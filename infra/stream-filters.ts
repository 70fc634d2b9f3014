import { FilterCriteria, FilterRule } from 'aws-cdk-lib/aws-lambda';
import type { NodeQueues } from '../functions/notifier/queues.js';
import { type CloudProvider, controlFunctions } from '../functions/registry.js';
import { scheduleMinutes, triggerResources } from '../functions/runtime/controller.js';
import { objectPartition } from '../shared/store/keys.js';
import type { Store } from '../shared/store/store.js';

/** What wakes a control function: the resources its controllers watch, and their periodic resyncs. */
export interface FunctionTriggers {
  resources: string[];
  /**
   * Resync interval in whole minutes (EventBridge's granularity: a shorter interval is rounded up to
   * one minute) → the controllers resynced that often.
   */
  resyncs: Map<number, string[]>;
}

/** The names of the control functions and, for each, what wakes it. */
export function functionTriggers(): Map<string, FunctionTriggers> {
  // Only the controllers' trigger lists are read: nothing runs, so neither a store, queues nor a cloud
  // is needed (the notifier and the cloud controller are listed only when those are given).
  const functions = controlFunctions({} as Store, {}, {} as NodeQueues, {} as CloudProvider);
  return new Map(
    functions.map((f) => {
      const resyncs = new Map<number, string[]>();
      for (const c of f.controllers) {
        if (!c.resync) continue;
        const minutes = scheduleMinutes(c.resync.intervalMs);
        resyncs.set(minutes, [...(resyncs.get(minutes) ?? []), c.name]);
      }
      return [f.name, { resources: triggerResources(f.controllers), resyncs }];
    }),
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
