import type { Store } from '../../../shared/store/store.js';
import type { Controller } from '../../runtime/controller.js';

/** kube-apiserver's default `--etcd-compaction-interval`. */
export const compactionIntervalMs = 5 * 60 * 1000;

/**
 * The store's history compaction, as kube-apiserver drives etcd's: every interval, history older than
 * the revision seen at the previous tick is dropped, so a watch may resume from any revision of the
 * last 5–10 minutes and older ones get 410 Gone. One key; its state (the recorded revision) lives in
 * the table, so a pass on any function instance continues the last one.
 */
export function compactionController(store: Store, intervalMs = compactionIntervalMs): Controller {
  return {
    name: 'compaction',
    triggers: [],
    resync: { intervalMs, keys: async () => ['history'] },
    async reconcile(_key, ctx) {
      await store.compactPeriodically(ctx.now(), intervalMs);
      return undefined;
    },
  };
}
