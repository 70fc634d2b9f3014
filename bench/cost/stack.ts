import type { NodeQueues } from '../../functions/notifier/queues.js';
import { type CloudProvider, controlFunctions } from '../../functions/registry.js';
import type { Store } from '../../shared/store/store.js';

/**
 * The retry queues the stack deploys: one per control function, the cloud controller's included (the
 * local cluster runs it only with EC2); Lambda's event source polls each.
 */
export function deployedRetryQueues(): number {
  return controlFunctions({} as Store, {}, {} as NodeQueues, {} as CloudProvider).length;
}
