import type { Node, Pod } from '../../shared/api/core.js';
import type { ObjectChange } from '../../shared/store/changes.js';
import type { Store } from '../../shared/store/store.js';
import type { ControlPlaneSettings } from '../registry.js';
import { type Controller, keyOf, splitKey, type Trigger } from '../runtime/controller.js';
import { isTerminal } from './allocation.js';
import { needsScheduling, Scheduler, type SchedulerOptions } from './scheduler.js';

export { needsScheduling, Scheduler, type SchedulerOptions } from './scheduler.js';

/** The one key of the pass over pending pods, and of the periodic resync. */
const pendingKey = 'pending';
const allKey = 'all';

/**
 * The pods to look at: one to place (new, or its spec changed: tolerations added), or one whose room
 * may change hands (gone, finished, bound). Status changes of a waiting pod are not. A record that
 * carries no images says nothing about what changed: the pod is looked at.
 */
export const podChanges: Trigger = {
  resource: 'pods',
  keys(change: ObjectChange) {
    const key = [keyOf(change.key)];
    const before = change.before as Pod | undefined;
    const after = change.after as Pod | undefined;
    if (!before && !after) return key;
    if (!change.exists || !after) return key;
    if (needsScheduling(after)) {
      const unchanged =
        before && needsScheduling(before) && JSON.stringify(before.spec) === JSON.stringify(after.spec);
      return unchanged ? [] : key;
    }
    if (isTerminal(after) && !(before && isTerminal(before))) return key;
    if (after.spec.nodeName && !before?.spec.nodeName) return key;
    return [];
  },
};

/** What about a node decides whether pods fit on it. */
function schedulingView(node: Node | undefined): string {
  if (!node) return '';
  return JSON.stringify([
    node.metadata.labels ?? {},
    node.spec?.unschedulable ?? false,
    node.spec?.taints ?? [],
    node.status?.allocatable ?? node.status?.capacity ?? {},
    node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '',
  ]);
}

/** A node came or changed in a way that may let waiting pods fit (any change, when the record carries no images). */
export const nodeChanges: Trigger = {
  resource: 'nodes',
  keys(change: ObjectChange) {
    if (!change.exists) return [];
    const after = change.after as Node | undefined;
    if (!after || !change.before) return [pendingKey];
    return schedulingView(change.before as Node) !== schedulingView(after) ? [pendingKey] : [];
  },
};

/**
 * The scheduler's controllers, sharing one `Scheduler` (its view of nodes and records, its queues):
 * `scheduler` places pods as they come and keeps the allocation records in line with the pods that
 * leave or arrive bound; `scheduler-pending` retries the pods that did not fit when a node comes or
 * changes (releases retry them directly); `scheduler-resync`, every minute, reconciles every record
 * against the pod list and retries what waits: the safety net for anything missed.
 */
export function createSchedulerControllers(
  store: Store,
  options: SchedulerOptions & { resyncIntervalMs?: number } = {},
): Controller[] {
  const scheduler = new Scheduler(store, options);
  return [
    {
      name: 'scheduler',
      triggers: [
        {
          resource: 'pods',
          keys(change) {
            // A pod this process bound, its room recorded where it went: nothing to account for.
            const keys = [...podChanges.keys(change)];
            const after = change.after as Pod | undefined;
            return keys.length > 0 && after && scheduler.accountedFor(after) ? [] : keys;
          },
        },
      ],
      reconcile: (key, ctx) => {
        const { namespace, name } = splitKey(key);
        return scheduler.reconcilePod(namespace, name, ctx);
      },
    },
    {
      name: 'scheduler-pending',
      triggers: [
        {
          resource: 'nodes',
          keys(change) {
            // Pods in this very batch must not be placed on what the node was before the change.
            scheduler.nodeChanged();
            return nodeChanges.keys(change);
          },
        },
      ],
      reconcile: async (_key, ctx) => {
        await scheduler.schedulePending(ctx);
        return undefined;
      },
    },
    {
      name: 'scheduler-resync',
      triggers: [],
      reconcile: async (_key, ctx) => {
        await scheduler.syncRecords(ctx);
        await scheduler.schedulePending(ctx);
        return undefined;
      },
      resync: { intervalMs: options.resyncIntervalMs ?? 60_000, keys: async () => [allKey] },
    },
  ];
}

/** The controllers of this folder, for the registry. */
export function schedulerControllers(store: Store, _settings: ControlPlaneSettings): Controller[] {
  return createSchedulerControllers(store);
}
